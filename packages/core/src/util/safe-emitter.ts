import type { Logger } from '../logger.js';

type Listener = (payload: never) => unknown;

/**
 * Events whose listeners cannot hurt the emitter: a listener that throws (or returns a promise
 * that rejects) is logged, and the other listeners and the queue carry on.
 */
export class SafeEmitter {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #logger: Pick<Logger, 'error'>;

  constructor(logger: Pick<Logger, 'error'>) {
    this.#logger = logger;
  }

  on(event: string, listener: Listener): void {
    if (typeof listener !== 'function') throw new TypeError('A listener must be a function');
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
  }

  off(event: string, listener: Listener): void {
    this.#listeners.get(event)?.delete(listener);
  }

  has(event: string): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit(event: string, payload: unknown): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as (payload: unknown) => unknown)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.#report(event, error));
      } catch (error) {
        this.#report(event, error);
      }
    }
  }

  #report(event: string, error: unknown): void {
    try {
      this.#logger.error(
        { event, err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) },
        `olchat-kit: a '${event}' listener threw; the queue goes on`,
      );
    } catch {
      // A logger that throws is not worth a crash either.
    }
  }
}
