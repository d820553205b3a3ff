import { BroadcastChannel } from 'node:worker_threads';

/**
 * Worker threads report long work (model downloads, data conversion) on this channel; the
 * daemon listens and writes it to its log, so it shows where the rest of the log goes.
 */
const NAME = 'colony:memory-log';

export function postMemoryLog(msg: string): void {
  const ch = new BroadcastChannel(NAME);
  ch.postMessage(msg);
  ch.close();
}

/** Forward messages to `log` until the returned function is called. */
export function listenMemoryLog(log: (msg: string) => void): () => void {
  const ch = new BroadcastChannel(NAME);
  ch.onmessage = (e) => log(String((e as MessageEvent).data));
  ch.unref();
  return () => ch.close();
}
