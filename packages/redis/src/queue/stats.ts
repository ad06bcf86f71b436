import type { JobStats, JobStatus } from '@olchat-kit/core';

export type StatsSource = () => Promise<JobStats>;

/**
 * `stats()` must answer synchronously (the /health route and metrics read it), but the truth is
 * in Redis and shared by every process. So: a snapshot, refreshed in the background, nudged
 * locally between refreshes by what this process sees happen.
 */
export class CachedStats {
  #snapshot: JobStats = emptyStats();
  readonly #source: StatsSource;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;

  constructor(source: StatsSource) {
    this.#source = source;
  }

  get snapshot(): JobStats {
    return { ...this.#snapshot };
  }

  /** Refreshes now and then every `intervalMs`; the timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      this.#snapshot = await this.#source();
    } catch {
      // Redis is unreachable: keep the last snapshot (and the local nudges) until it is back.
    } finally {
      this.#refreshing = false;
    }
  }

  /**
   * A local change between refreshes: e.g. `move('queued', 'sending')`, `move(undefined, 'queued')`.
   * Statuses stats() does not count (`skipped`) are ignored.
   */
  move(from: JobStatus | undefined, to: JobStatus | undefined): void {
    if (from && from in this.#snapshot) {
      const key = from as keyof JobStats;
      this.#snapshot[key] = Math.max(0, this.#snapshot[key] - 1);
    }
    if (to && to in this.#snapshot) this.#snapshot[to as keyof JobStats]++;
  }
}

export function emptyStats(): JobStats {
  return { scheduled: 0, queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0, expired: 0 };
}
