// A light newline-delimited JSON-RPC client for the unix socket, as a script or light agent would write it (benches and tests).
import { createConnection, type Socket } from 'node:net';

/** A raw newline-delimited JSON-RPC client on a unix socket, as a light agent would write it. */
export class RpcClient {
  private buf = '';
  private readonly waiting = new Map<string | number | null, (msg: any) => void>();
  readonly unsolicited: any[] = [];
  private nextId = 1;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const msg = JSON.parse(line);
        const w = this.waiting.get(msg.id);
        if (w) {
          this.waiting.delete(msg.id);
          w(msg);
        } else this.unsolicited.push(msg);
      }
    });
  }

  static connect(path: string): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(new RpcClient(s)));
      s.once('error', reject);
    });
  }

  /** Send a request and resolve with the whole response message. */
  request(method: string, params?: unknown, id: string | number = this.nextId++): Promise<any> {
    const p = new Promise<any>((resolve) => this.waiting.set(id, resolve));
    this.socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return p;
  }

  /** Resolve with the result, or throw the JSON-RPC error. */
  async call(method: string, params?: unknown): Promise<any> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(r.error.message), r.error);
    return r.result;
  }

  writeRaw(text: string): void {
    this.socket.write(text);
  }

  /** Wait for the next message that no request is waiting for (e.g. a parse error, id null). */
  async nextUnsolicited(): Promise<any> {
    for (;;) {
      const m = this.unsolicited.shift();
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
