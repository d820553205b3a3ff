import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import type { Logger } from '../lib/log.js';
import { Dispatcher, RpcError, type RpcResponse } from './dispatcher.js';
import type { ToolDef } from './tool.js';

/** Longest accepted line; longer ones are refused without buffering them. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface SocketServer {
  path: string;
  close(): Promise<void>;
}

/** Is something answering on this socket path? */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Newline-delimited JSON-RPC 2.0 on a unix socket (mode 0600). Every line is handled as
 * it arrives and answered with its id when done, so requests pipeline on one connection
 * and no connection waits on another's work.
 */
export async function startSocketServer(opts: {
  path: string;
  tools: ReadonlyMap<string, ToolDef>;
  logger: Logger;
}): Promise<SocketServer> {
  const dispatcher = new Dispatcher(opts.tools);
  if (existsSync(opts.path)) {
    if (await socketAlive(opts.path)) throw new Error(`another process is serving ${opts.path}`);
    rmSync(opts.path, { force: true });
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => serveConnection(socket, dispatcher, opts.logger, sockets));
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: a thousand agents may connect in the same instant.
    server.listen({ path: opts.path, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(opts.path, 0o600);
  return {
    path: opts.path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(opts.path, { force: true });
          resolve();
        });
      }),
  };
}

function serveConnection(socket: Socket, dispatcher: Dispatcher, logger: Logger, sockets: Set<Socket>): void {
  sockets.add(socket);
  const abort = new AbortController();
  const ctx = { signal: abort.signal, session: {} };
  let closed = false;
  const chunks: Buffer[] = [];
  let buffered = 0;
  let discarding = false;

  const send = (res: RpcResponse | RpcResponse[] | undefined): void => {
    if (!res || closed || socket.destroyed) return;
    socket.write(JSON.stringify(res) + '\n');
  };

  const handleLine = (line: string): void => {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: RpcError.PARSE, message: 'parse error: not valid JSON' } });
      return;
    }
    if (Array.isArray(msg)) {
      // A batch gets one array of answers, as JSON-RPC 2.0 specifies.
      void dispatcher.handleBatch(msg, ctx).then(send, (err: Error) => {
        logger.error({ err: err.message }, 'socket batch failed');
      });
      return;
    }
    void dispatcher.handle(msg, ctx).then(send, (err: Error) => {
      logger.error({ err: err.message }, 'socket request failed');
    });
  };

  socket.on('data', (data: Buffer) => {
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      if (nl < 0) break;
      const piece = data.subarray(start, nl);
      start = nl + 1;
      if (discarding) {
        discarding = false;
        continue;
      }
      if (buffered + piece.length > MAX_LINE_BYTES) {
        chunks.length = 0;
        buffered = 0;
        send({ jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: `line longer than ${MAX_LINE_BYTES} bytes refused` } });
        continue;
      }
      const line = chunks.length ? Buffer.concat([...chunks, piece]).toString('utf8') : piece.toString('utf8');
      chunks.length = 0;
      buffered = 0;
      handleLine(line);
    }
    if (start < data.length && !discarding) {
      const rest = data.subarray(start);
      if (buffered + rest.length > MAX_LINE_BYTES) {
        // Refuse now and drop the rest of this line as it arrives.
        chunks.length = 0;
        buffered = 0;
        discarding = true;
        send({ jsonrpc: '2.0', id: null, error: { code: RpcError.INVALID_REQUEST, message: `line longer than ${MAX_LINE_BYTES} bytes refused` } });
      } else {
        chunks.push(Buffer.from(rest));
        buffered += rest.length;
      }
    }
  });
  const finish = (): void => {
    if (closed) return;
    closed = true;
    sockets.delete(socket);
    abort.abort();
  };
  socket.on('close', finish);
  socket.on('error', finish);
}
