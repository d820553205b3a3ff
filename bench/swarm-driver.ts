// A separate process driving a daemon's socket like a swarm: each run reserves 3 random
// files out of N and heartbeats. argv: <socket> <runs> <files> <connections>. Prints JSON.
import { createConnection, type Socket } from 'node:net';
import { percentile } from './lib.js';

const [socketPath, runsArg, filesArg, connsArg] = process.argv.slice(2);
const RUNS = Number(runsArg);
const FILES = Number(filesArg);
const CONNS = Number(connsArg);

function client(): Promise<{ call: (method: string, params: unknown) => Promise<any>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const s: Socket = createConnection(socketPath!);
    const waiting = new Map<number, (v: any) => void>();
    let buf = '';
    let id = 0;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        waiting.get(msg.id)?.(msg);
        waiting.delete(msg.id);
      }
    });
    s.once('error', reject);
    s.once('connect', () =>
      resolve({
        call: (method, params) =>
          new Promise((res) => {
            const i = ++id;
            waiting.set(i, res);
            s.write(JSON.stringify({ jsonrpc: '2.0', id: i, method, params }) + '\n');
          }),
        close: () => s.destroy(),
      }),
    );
  });
}

const clients = await Promise.all(Array.from({ length: CONNS }, client));
const lat: number[] = [];
const reserveLat: number[] = [];
let granted = 0;
let next = 0;
const t0 = performance.now();
await Promise.all(
  clients.map(async (c) => {
    while (next < RUNS) {
      const run = `swarm-${next++}`;
      const files = [0, 1, 2].map(() => `src/pkg${Math.floor(Math.random() * 1500)}/file${Math.floor(Math.random() * FILES)}.ts`);
      let t = performance.now();
      const r = await c.call('coord_reserve', { run_id: run, symbols: files, ttl_seconds: 3600 });
      const dt = performance.now() - t;
      lat.push(dt);
      reserveLat.push(dt);
      if (r.error) throw new Error(r.error.message);
      if (r.result.granted) granted++;
      t = performance.now();
      await c.call('coord_heartbeat', { run_id: run });
      lat.push(performance.now() - t);
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
clients.forEach((c) => c.close());

// Then one agent alone among the swarm's reservations (topped up past 10,000 active):
// the latency of a single reserve over the socket.
const solo = await client();
for (let i = 0; next + i < 10_000 + RUNS / 2 && i < 10_000; i++) {
  await solo.call('coord_reserve', { run_id: `fill-${i}`, symbols: [`fill/${i}.ts`], ttl_seconds: 3600 });
}
const soloLat: number[] = [];
for (let i = 0; i < 2000; i++) {
  const files = [`src/pkg${Math.floor(Math.random() * 1500)}/file${Math.floor(Math.random() * FILES)}.ts`];
  const t = performance.now();
  await solo.call('coord_reserve', { run_id: `solo-${i}`, symbols: files, ttl_seconds: 60 });
  soloLat.push(performance.now() - t);
}
solo.close();
soloLat.sort((a, b) => a - b);
lat.sort((a, b) => a - b);
reserveLat.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ ops: lat.length, seconds, p50: percentile(lat, 50), p99: percentile(lat, 99), reserveP99: percentile(reserveLat, 99), soloP50: percentile(soloLat, 50), soloP99: percentile(soloLat, 99), granted }));
