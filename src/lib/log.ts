import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr; `COLONY_LOG_LEVEL` (or `level`) picks the threshold. */
export function createLogger(level: string = process.env.COLONY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything, for tests and in-process benches. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
