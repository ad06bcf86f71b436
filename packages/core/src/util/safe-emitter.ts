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
        if (result instanceof Promise) result.catch((error: unknown) => this.#report(event, error, payload));
      } catch (error) {
        this.#report(event, error, payload);
      }
    }
  }

  #report(event: string, error: unknown, payload: unknown): void {
    try {
      // A listener's error may quote the job it was given: its message's words never reach the log.
      const words = wordsOf(payload);
      const clean = (text: string | undefined) =>
        text === undefined ? undefined : words.reduce((out, word) => out.split(word).join('***'), text);
      this.#logger.error(
        {
          event,
          err:
            error instanceof Error
              ? { message: clean(error.message), stack: clean(error.stack) }
              : clean(String(error)),
        },
        `olchat-kit: a '${event}' listener threw; the queue goes on`,
      );
    } catch {
      // A logger that throws is not worth a crash either.
    }
  }
}

/** The message words of a job record given to listeners (its text, or its file's URL and caption), longest first. */
function wordsOf(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const { text, file } = payload as { text?: unknown; file?: { url?: unknown; caption?: unknown } };
  return [text, file?.url, file?.caption]
    .filter((word): word is string => typeof word === 'string' && word.length >= 4)
    .sort((a, b) => b.length - a.length);
}
