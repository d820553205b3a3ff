import { createConnection, type Socket } from 'node:net';

/**
 * A minimal client of the daemon's unix socket (newline-delimited JSON-RPC 2.0, where every
 * MCP tool is also a method): what the scripted agent uses to reach Colony, as a real
 * agent reaches it through `colony mcp`.
 */
export class SocketClient {
  private buf = '';
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('the colony socket closed'));
      this.waiting.clear();
    });
  }

  static connect(path: string): Promise<SocketClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', () => undefined); // 'close' follows and fails what is pending
        resolve(new SocketClient(s));
      });
    });
  }

  call<T = Record<string, unknown>>(method: string, params: Record<string, unknown>): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  close(): void {
    this.socket.end();
  }

  private read(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { id?: number; result?: unknown; error?: { message?: string } };
      const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
      if (!w) continue;
      this.waiting.delete(msg.id!);
      if (msg.error) w.reject(new Error(msg.error.message ?? 'colony error'));
      else w.resolve(msg.result);
    }
  }
}
