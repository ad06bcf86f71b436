import type { JobStats, JobStatus, Priority } from '@olchat-kit/core';
import type { JobOutcome, SendKind } from '@olchat-kit/core/queue';
import type { Redis } from 'ioredis';
import type { LuaScript } from '../lua.js';
import type { QueueKeys } from './keys.js';
import { type Fields, fieldsOf } from './record.js';
import { ADD } from './scripts/add.js';
import { GATES_CHANGE, GATES_READ } from './scripts/gates.js';
import { CANCEL, CANCEL_MANY, REQUEUE, SET_DELIVERY } from './scripts/manage.js';
import { FIND_BY_PHONE, FORGET, FORGET_EVENTS, FORGOTTEN_LEFT } from './scripts/people.js';
import { FIND, GET, LIST, STATS } from './scripts/read.js';
import { SWEEP } from './scripts/sweep.js';
import { MARK_ATTEMPT, MARK_NOT_ACCEPTED, OUTCOME, PEEK, PICKUP } from './scripts/work.js';

export interface StoreSettings {
  /** How long a finished record stays readable. */
  keepFinishedMs: number;
  /** How much longer a record lives than the keys that point at it. */
  graceMs: number;
}

export interface AddInput {
  id: string;
  status: 'queued' | 'scheduled' | 'skipped' | 'expired';
  keys: readonly string[];
  keyTtlMs: number;
  maxQueued: number;
  replaceKey: string | undefined;
  /** Whether cancelling the job it replaces frees that job's keys (core's `freesKeys`). */
  freeKeysOnCancel: boolean;
  /** Whether a job added past its deadline (ended 'expired' at once) frees its keys (core's `freesKeys`). */
  freeKeysOnExpiry: boolean;
  pendingTtlMs: number;
  deadline: number;
  sendAt: number | undefined;
  /** The message's body (see `messageBody`; '' for a skipped job). */
  body: string;
  /** Scheduled beyond the hand-off horizon: no BullMQ job until the sweep hands it over. */
  later: boolean;
  fields: (string | number)[];
}

export type AddReply =
  | { kind: 'hit'; fields: Fields }
  | { kind: 'full'; pending: number }
  | { kind: 'new'; fields: Fields; replaced: Fields | undefined };

export type RequeueReply =
  | { kind: 'done'; fields: Fields; from: JobStatus }
  | { kind: 'full'; pending: number }
  | { kind: 'refused' };

export interface PickupInput {
  id: string;
  bullId: string;
  token: string;
  /** The kind of limit slot this pickup holds ('text' | 'file'), or undefined: it holds none. */
  claimKind: SendKind | undefined;
  maxStalledCount: number;
  retryAmbiguous: boolean;
  ambiguousMessage: string;
  stalledMessage: string;
  freeKeysIfAmbiguous: boolean;
  freeKeysIfStalled: boolean;
  /** A job due within this much is worked now rather than delayed again. */
  earlyToleranceMs: number;
}

export type PickupReply =
  | { verdict: 'gone' | 'stale' | 'final' }
  | { verdict: 'ended'; fields: Fields }
  | { verdict: 'work'; fields: Fields; message: string | undefined }
  | { verdict: 'early'; at: number };

export interface Expiring {
  id: string;
  status: JobStatus;
  lastError: { code: string; message: string; status?: number } | undefined;
  inflight: boolean;
  bull: string;
}

/** A job's record id and the id of its current BullMQ job. */
export interface BullPair {
  id: string;
  bull: string;
}

export interface Revival {
  id: string;
  bull: string;
  priority: string;
  dueAt: number;
}

export interface SweepReply {
  promoted: number;
  expiring: Expiring[];
  revive: Revival[];
}

/** The job records in Redis: every read and every change, each one script. */
export class JobStore {
  readonly #client: Redis;
  readonly #keys: QueueKeys;
  readonly #settings: StoreSettings;

  constructor(client: Redis, keys: QueueKeys, settings: StoreSettings) {
    this.#client = client;
    this.#keys = keys;
    this.#settings = settings;
  }

  async add(input: AddInput, now: number): Promise<AddReply> {
    const reply = (await this.#run(ADD, this.#keys.record(input.id), now, [
      input.id,
      input.status,
      JSON.stringify(input.keys),
      input.keyTtlMs,
      input.maxQueued,
      input.replaceKey ?? '',
      flag(input.freeKeysOnCancel),
      input.pendingTtlMs,
      input.deadline,
      input.sendAt ?? '',
      input.body,
      flag(input.later),
      flag(input.freeKeysOnExpiry),
      ...input.fields,
    ])) as [string, unknown, unknown, unknown];
    if (reply[0] === 'full') return { kind: 'full', pending: Number(reply[1]) };
    if (reply[0] === 'hit') return { kind: 'hit', fields: fieldsOf(reply[2]) };
    const replaced = fieldsOf(reply[3]);
    return { kind: 'new', fields: fieldsOf(reply[2]), replaced: replaced.id === undefined ? undefined : replaced };
  }

  /** The record's fields with its id and its body, or {} when there is none. */
  async get(id: string, now: number): Promise<Fields> {
    return fieldsOf(await this.#run(GET, this.#keys.record(id), now, [id]));
  }

  async find(keys: readonly string[], now: number): Promise<Fields> {
    return fieldsOf(await this.#run(FIND, this.#keys.stats, now, [JSON.stringify(keys)]));
  }

  async list(status: JobStatus | undefined, limit: number, now: number): Promise<Fields[]> {
    const reply = (await this.#run(LIST, this.#keys.stats, now, [status ?? '', limit])) as unknown[];
    return reply.map(fieldsOf);
  }

  async counts(now: number): Promise<JobStats> {
    const reply = ((await this.#run(STATS, this.#keys.stats, now, [])) as unknown[]).map((n) => Number(n) || 0);
    const [scheduled = 0, queued = 0, sending = 0, dueNow = 0, sent = 0, failed = 0, cancelled = 0, expired = 0] =
      reply;
    const due = Math.min(dueNow, scheduled);
    return { scheduled: scheduled - due, queued: queued + due, sending, sent, failed, cancelled, expired };
  }

  /** The kind and lane of the job BullMQ would hand out next; undefined when none waits. */
  async peek(now: number): Promise<{ kind: SendKind; priority: Priority } | undefined> {
    const reply = (await this.#run(PEEK, this.#keys.stats, now, [this.#keys.bullBase])) as string[];
    if (reply.length < 2) return undefined;
    const kind: SendKind = reply[0] === 'file' ? 'file' : 'text';
    const priority: Priority = reply[1] === 'high' || reply[1] === 'low' ? reply[1] : 'normal';
    return { kind, priority };
  }

  async pickup(input: PickupInput, now: number): Promise<PickupReply> {
    const reply = (await this.#run(PICKUP, this.#keys.record(input.id), now, [
      input.id,
      input.bullId,
      input.token,
      input.claimKind ?? '',
      input.maxStalledCount,
      flag(input.retryAmbiguous),
      input.ambiguousMessage,
      input.stalledMessage,
      flag(input.freeKeysIfAmbiguous),
      flag(input.freeKeysIfStalled),
      input.earlyToleranceMs,
    ])) as [string, unknown, unknown];
    const verdict = reply[0];
    if (verdict === 'early') return { verdict, at: Number(reply[1]) };
    if (verdict === 'ended') return { verdict, fields: fieldsOf(reply[1]) };
    if (verdict === 'work') {
      return { verdict, fields: fieldsOf(reply[1]), message: reply[2] == null ? undefined : String(reply[2]) };
    }
    return { verdict: verdict as 'gone' | 'stale' | 'final' };
  }

  /** Whether the attempt may be made; when not, the job's status now ('' when it is gone). */
  async markAttempt(id: string, token: string, now: number): Promise<{ ok: true } | { ok: false; status: string }> {
    const reply = (await this.#run(MARK_ATTEMPT, this.#keys.record(id), now, [id, token])) as [number, string?];
    return reply[0] === 1 ? { ok: true } : { ok: false, status: String(reply[1] ?? '') };
  }

  async markNotAccepted(id: string, token: string, now: number): Promise<boolean> {
    return (await this.#run(MARK_NOT_ACCEPTED, this.#keys.record(id), now, [id, token])) === 1;
  }

  /** Stores an outcome if `token` still owns the job. `freeKeys` is core's decision for a final one. */
  async outcome(
    id: string,
    token: string,
    outcome: JobOutcome,
    freeKeys: boolean,
    now: number,
  ): Promise<{ done: boolean; fields: Fields }> {
    const error = 'error' in outcome ? outcome.error : undefined;
    const at = outcome.status === 'retry' ? outcome.at : outcome.status === 'deferred' ? outcome.until : '';
    const reply = (await this.#run(OUTCOME, this.#keys.record(id), now, [
      id,
      token,
      outcome.status,
      error?.code ?? '',
      error?.message ?? '',
      error?.status ?? '',
      outcome.status === 'sent' ? (outcome.messageId ?? '') : '',
      flag(freeKeys),
      at,
      outcome.status === 'skipped' ? outcome.reason : outcome.status === 'deferred' ? (outcome.heldBy ?? '') : '',
    ])) as [number, unknown];
    return { done: reply[0] === 1, fields: fieldsOf(reply[1]) };
  }

  async cancel(target: { id: string } | { replaceKey: string }, freeKeys: boolean, now: number) {
    const route = 'id' in target ? this.#keys.record(target.id) : this.#keys.replace(target.replaceKey);
    const reply = (await this.#run(CANCEL, route, now, [
      'id' in target ? target.id : '',
      'replaceKey' in target ? target.replaceKey : '',
      flag(freeKeys),
    ])) as [number, unknown];
    return reply[0] === 1 ? fieldsOf(reply[1]) : undefined;
  }

  /** One page of a `cancelMany`: see CANCEL_MANY. */
  async cancelPage(
    input: {
      stored: 'scheduled' | 'queued';
      when: 'due' | 'future' | 'any';
      ruleId: string | undefined;
      priority: string | undefined;
      freeKeys: boolean;
      offset: number;
      batch: number;
    },
    now: number,
  ): Promise<{ scanned: number; kept: number; cancelled: Fields[] }> {
    const [scanned, kept, cancelled] = (await this.#run(CANCEL_MANY, this.#keys.stats, now, [
      input.stored,
      input.when,
      input.ruleId ?? '',
      input.priority ?? '',
      flag(input.freeKeys),
      input.offset,
      input.batch,
    ])) as [number, number, unknown[]];
    return { scanned: Number(scanned), kept: Number(kept), cancelled: cancelled.map(fieldsOf) };
  }

  /** The shared lane gates (see scripts/gates.ts). */
  async readGates(now: number): Promise<Fields> {
    return fieldsOf(await this.#run(GATES_READ, this.#keys.stats, now, []));
  }

  async changeGates(args: (string | number)[], now: number): Promise<{ changed: boolean; fields: Fields }> {
    const [changed, fields] = (await this.#run(GATES_CHANGE, this.#keys.stats, now, args)) as [number, unknown];
    return { changed: Number(changed) === 1, fields: fieldsOf(fields) };
  }

  async requeue(
    id: string,
    deadline: number,
    pendingTtlMs: number,
    maxQueued: number,
    now: number,
  ): Promise<RequeueReply> {
    const reply = (await this.#run(REQUEUE, this.#keys.record(id), now, [id, deadline, pendingTtlMs, maxQueued])) as [
      number,
      unknown,
      unknown,
    ];
    if (reply[0] === 2) return { kind: 'full', pending: Number(reply[1]) };
    if (reply[0] !== 1) return { kind: 'refused' };
    return { kind: 'done', fields: fieldsOf(reply[1]), from: String(reply[2]) as JobStatus };
  }

  async setDelivery(id: string, delivery: string | undefined, checkedAt: number, raw: string, now: number) {
    const reply = (await this.#run(SET_DELIVERY, this.#keys.record(id), now, [id, delivery ?? '', checkedAt, raw])) as [
      number,
      unknown,
    ];
    return reply[0] === 1 ? fieldsOf(reply[1]) : undefined;
  }

  /** A phone's records (by its key), newest first, with their bodies. */
  async findByPhone(phoneKey: string, limit: number, now: number): Promise<Fields[]> {
    const reply = (await this.#run(FIND_BY_PHONE, this.#keys.stats, now, [phoneKey, limit])) as unknown[];
    return reply.map(fieldsOf);
  }

  /** Erases a phone's jobs; the ones workers hold are marked and erased when their workers are done. */
  async forget(
    phoneKey: string,
    now: number,
  ): Promise<{ erased: BullPair[]; held: (BullPair & { sending: boolean })[] }> {
    const [erased, held] = (await this.#run(FORGET, this.#keys.stats, now, [phoneKey])) as [string[][], string[][]];
    return {
      erased: erased.map(([id = '', bull]) => ({ id, bull: bull ?? id })),
      held: held.map(([id = '', bull, status]) => ({ id, bull: bull ?? id, sending: status === 'sending' })),
    };
  }

  /** How many of these jobs still have a record or a BullMQ job. */
  async forgottenLeft(jobs: readonly BullPair[], now: number): Promise<number> {
    const args = jobs.flatMap(({ id, bull }) => [id, bull]);
    return Number(await this.#run(FORGOTTEN_LEFT, this.#keys.stats, now, [this.#keys.bullBase, ...args]));
  }

  /** Deletes the entries of BullMQ's event stream that name these ids; resolves how many. */
  async forgetEvents(ids: readonly string[], now: number): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.#run(FORGET_EVENTS, this.#keys.stats, now, [`${this.#keys.bullBase}events`, ...ids]));
  }

  async sweep(
    input: { token: string; limit: number; reviveBefore: number; recheckAt: number; handBefore: number },
    now: number,
  ): Promise<SweepReply> {
    const [promoted, expiring, revive] = (await this.#run(SWEEP, this.#keys.stats, now, [
      this.#keys.bullBase,
      input.token,
      input.limit,
      input.reviveBefore,
      input.recheckAt,
      input.handBefore,
    ])) as [number, string[][], string[][]];
    return {
      promoted: Number(promoted),
      expiring: expiring.map(([id = '', status = '', code = '', message = '', httpStatus = '', inflight, bull]) => {
        const lastError =
          code === '' ? undefined : { code, message, ...(httpStatus ? { status: Number(httpStatus) } : {}) };
        return { id, status: status as JobStatus, lastError, inflight: inflight === '1', bull: bull ?? id };
      }),
      revive: revive.map(([id = '', bull, priority = 'normal', dueAt]) => ({
        id,
        bull: bull ?? id,
        priority,
        dueAt: Number(dueAt) || 0,
      })),
    };
  }

  /** Every script gets the queue's key base, now, and the record lifetimes first (see prelude.ts). */
  #run(script: LuaScript, routeKey: string, now: number, args: (string | number)[]): Promise<unknown> {
    const { keepFinishedMs, graceMs } = this.#settings;
    return script.run(this.#client, [routeKey], [this.#keys.base, now, keepFinishedMs, graceMs, ...args]);
  }
}

function flag(value: boolean): string {
  return value ? '1' : '0';
}
