/** A promise-chained mutex: callers run one at a time, in arrival order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    // Keep the chain alive whatever fn does; the caller still sees its own rejection.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
