/**
 * Every key of one queue lives under `<prefix>:<name>:`, beside BullMQ's own (which are named by
 * BullMQ, and job ids, which are 16 characters of base64url): ours start with `~` so the two can
 * never collide.
 * A prefix in braces (`{olchat}`) keeps them all in one Redis Cluster hash slot.
 *
 * Ours, below `<prefix>:<name>:~`:
 * - `rec:<id>`      the job's record (a hash, its message included): the truth every process reads
 * - `key:<key>`     an idempotency or dedupe key → job id (expires with the key's TTL)
 * - `rk:<key>`      a replace key → the id of its pending job
 * - `st:<status>`   ids in that status, scored by updatedAt (list(), and the pending counts)
 * - `later`         scheduled ids by sendAt that have no BullMQ job yet (the sweep hands them over
 *                   when their time nears)
 * - `due`           scheduled ids by sendAt that have one (the sweep moves them to their lane)
 * - `deadlines`     pending ids by deadline (the sweep expires them); one in `later` joins it when
 *                   handed over, unless its deadline comes before its time
 * - `adding`        ids whose BullMQ job may not exist yet (the sweep revives a lost one)
 * - `stats`         totals of finished jobs by status
 * - `gates`         lane pauses and the line's flag, shared by every process (shared-gates.ts)
 * - `parked:<lane>` BullMQ ids of jobs parked while their lane was held, to promote when it opens
 * - `pp:…`          contact memory, suppressions and reply counts, by phone key (see people-store.ts)
 * The scripts build these names from `base` themselves (see scripts/prelude.ts).
 */
export class QueueKeys {
  /** `<prefix>:<name>:~`: passed to every script. */
  readonly base: string;
  /** `<prefix>:<name>:`: BullMQ's job hash is `<bullBase><jobId>`, its lock `<bullBase><jobId>:lock`. */
  readonly bullBase: string;

  constructor(prefix: string, name: string) {
    this.bullBase = `${prefix}:${name}:`;
    this.base = `${this.bullBase}~`;
  }

  record(id: string): string {
    return `${this.base}rec:${id}`;
  }

  /** An idempotency or dedupe key (already namespaced by the notifier). */
  idempotency(key: string): string {
    return `${this.base}key:${key}`;
  }

  replace(key: string): string {
    return `${this.base}rk:${key}`;
  }

  get stats(): string {
    return `${this.base}stats`;
  }
}
