import type { OlchatClient } from '../client/client.js';
import type { Priority } from '../job.js';
import type { SlotReservation } from '../limiter/reservation.js';
import type { LineMonitor } from './line.js';
import type { Claim, SendKind } from './types.js';

const SPENT = Promise.resolve();

/**
 * The notifier's claim: a reservation of the client's limit slot for one send of `kind`, or none
 * (a hollow claim, spent from the start) while the line is down.
 */
export class SlotClaim implements Claim {
  readonly kind: SendKind;
  readonly reservation: SlotReservation | undefined;
  readonly waitedMs: number;

  constructor(kind: SendKind, reservation: SlotReservation | undefined, waitedMs = 0) {
    this.kind = kind;
    this.reservation = reservation;
    this.waitedMs = waitedMs;
  }

  get spent(): boolean {
    return this.reservation?.spent ?? true;
  }

  whenSpent(): Promise<void> {
    return this.reservation?.whenSpent() ?? SPENT;
  }

  async release(): Promise<void> {
    await this.reservation?.release();
  }
}

/**
 * Slot first: a claim is a limit slot in the lane of the best waiting job. While the line is down
 * no slot is taken: the claim is hollow, and the job it lets out waits for the line in its worker
 * as before, where its deadline still ends it on time.
 */
export function createClaimer(
  client: OlchatClient,
  line: LineMonitor,
): (kind: SendKind, priority: Priority, signal: AbortSignal) => Promise<Claim> {
  return async (kind, priority, signal) => {
    if (line.state === 'down') return new SlotClaim(kind, undefined);
    const asked = Date.now();
    const reservation = await client.reserveSlot(kind === 'text' ? 'sendText' : 'sendFile', { priority, signal });
    return new SlotClaim(kind, reservation, Date.now() - asked);
  };
}
