/**
 * Every key of one queue lives under `<prefix>:<name>:`, beside BullMQ's own (which are named by
 * BullMQ, and job ids, which are UUIDs): ours start with `~` so the two can never collide.
 * A prefix in braces (`{olchat}`) keeps them all in one Redis Cluster hash slot.
 */
export class QueueKeys {
  readonly #base: string;

  constructor(prefix: string, name: string) {
    this.#base = `${prefix}:${name}:~`;
  }

  /** The prefix of the record keys, for scripts that find a record from an id they read. */
  get recordPrefix(): string {
    return `${this.#base}rec:`;
  }

  record(id: string): string {
    return `${this.#base}rec:${id}`;
  }

  /** An idempotency or dedupe key (already namespaced by the notifier). */
  idempotency(key: string): string {
    return `${this.#base}key:${key}`;
  }

  /** Shared counters of finished jobs: { sent, failed }. */
  get stats(): string {
    return `${this.#base}stats`;
  }
}
