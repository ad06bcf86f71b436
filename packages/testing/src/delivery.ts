import type { EmulatorDelivery, EmulatorMessage, EmulatorMessageStatus } from './types.js';

/** The statuses `setDelivery` accepts: what a phone can report about a message after 'sent'. */
export const MANUAL_STATUSES: readonly EmulatorMessageStatus[] = ['delivered', 'read', 'failed'];

function afterMs(value: number | undefined, name: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`delivery.${name} must be a non-negative number of ms`);
  }
  return value;
}

/** When a message becomes delivered and read, in ms after its acceptance (Infinity: never by itself). */
export interface DeliverySchedule {
  deliveredAfterMs: number;
  readAfterMs: number;
}

export function resolveDelivery(delivery: EmulatorDelivery | undefined): DeliverySchedule {
  if (delivery !== undefined && (typeof delivery !== 'object' || delivery === null)) {
    throw new TypeError('delivery must be an object { deliveredAfterMs?, readAfterMs? }');
  }
  const deliveredAfterMs = afterMs(delivery?.deliveredAfterMs, 'deliveredAfterMs');
  const readAfterMs = afterMs(delivery?.readAfterMs, 'readAfterMs');
  // Read before delivered is a mistake in the test's set-up; read alone (no delivered step) is allowed.
  if (delivery?.deliveredAfterMs !== undefined && readAfterMs < deliveredAfterMs) {
    throw new RangeError('delivery.readAfterMs must not be less than delivery.deliveredAfterMs');
  }
  return { deliveredAfterMs, readAfterMs };
}

/** The status a message has by itself `elapsedMs` after its acceptance. */
export function scheduledStatus(schedule: DeliverySchedule, elapsedMs: number): EmulatorMessageStatus {
  if (elapsedMs >= schedule.readAfterMs) return 'read';
  if (elapsedMs >= schedule.deliveredAfterMs) return 'delivered';
  return 'sent';
}

export interface TrackedMessage {
  /** The record in `emu.messages`; its `status` is read live from the clock. */
  message: EmulatorMessage;
  /** A status set by hand replaces the schedule for this message from then on. */
  setStatus(status: EmulatorMessageStatus): void;
}

/**
 * Gives an accepted message a live `status`: an enumerable getter, so the record stays a plain
 * object for `toEqual`, JSON and the inbox page while its status follows the emulator's clock.
 */
export function trackMessage(
  fields: Omit<EmulatorMessage, 'status'>,
  schedule: DeliverySchedule,
  clock: () => number,
): TrackedMessage {
  const acceptedAt = clock();
  let manual: EmulatorMessageStatus | undefined;
  const message = fields as EmulatorMessage;
  Object.defineProperty(message, 'status', {
    enumerable: true,
    configurable: false,
    get: () => manual ?? scheduledStatus(schedule, clock() - acceptedAt),
  });
  return {
    message,
    setStatus(status) {
      manual = status;
    },
  };
}
