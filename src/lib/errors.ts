/**
 * Domain errors carry a stable machine code and the HTTP status an adapter should use.
 * Domain code throws these; transports (HTTP, MCP, CLI) only translate them.
 */
export class ColonyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ColonyError';
  }
}

export class InvalidInputError extends ColonyError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_input', message, 400, details);
  }
}

export class NotFoundError extends ColonyError {
  constructor(message: string) {
    super('not_found', message, 404);
  }
}

export class ForbiddenError extends ColonyError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

export class ConflictError extends ColonyError {
  constructor(message: string) {
    super('conflict', message, 409);
  }
}

export class QueueFullError extends ColonyError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('queue_full', message, 429);
  }
}

export class PayloadTooLargeError extends ColonyError {
  constructor(message: string) {
    super('payload_too_large', message, 413);
  }
}

export function isColonyError(err: unknown): err is ColonyError {
  return err instanceof ColonyError;
}

/** A file-system error in words a user reads ("no such file"), not its code ("ENOENT"). */
export function fsErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EROFS':
      return 'read-only file system';
    default:
      return (err as Error).message;
  }
}
