/**
 * A value already encoded as JSON text where it was computed (a memory worker thread), so
 * the daemon's event loop neither decodes nor re-encodes it: the socket server splices the
 * text into its answer as is. Whatever serialises it with JSON.stringify instead (HTTP
 * routes, batches) gets the same value through toJSON; `value()` decodes it for code that
 * needs the object.
 */
export class RawJson<T = unknown> {
  constructor(readonly text: string) {}

  value(): T {
    return JSON.parse(this.text) as T;
  }

  toJSON(): T {
    return this.value();
  }
}
