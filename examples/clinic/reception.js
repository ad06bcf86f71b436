import { randomBytes } from 'node:crypto';
import { REMIND_BEFORE_MS, reminderKey, SERVICES } from './rules.js';

/**
 * The clinic's reception: visits and the WhatsApp messages about them. Visits live in a Map: this
 * is an example; a clinic keeps them in its database (the notifier's jobs survive restarts on
 * the Redis queue of @olchat-kit/redis).
 *
 * A visit's id is also the secret in its "move or cancel" link, so it is long and random: whoever
 * has the link can manage the visit, as with a booking reference.
 */
export function createReception({ notifier, publicUrl }) {
  const visits = new Map();
  const base = publicUrl.replace(/\/+$/, '');

  /** What every message about the visit is rendered from. */
  function messageData(visit) {
    return {
      visitId: visit.id,
      name: visit.name,
      phone: visit.phone,
      serviceTo: SERVICES[visit.service].to,
      visitAt: visit.visitAt,
      manageUrl: `${base}/visits/${visit.id}`,
      bookUrl: `${base}/`,
    };
  }

  /**
   * Schedules the reminder for the visit's current time, replacing a pending one (same replace
   * key). A visit less than 24 h ahead gets none: the confirmation sent a moment ago already says
   * the date and time, and a second message right after it would only be noise. A reminder still
   * pending for the visit's old time is taken back all the same.
   */
  async function scheduleReminder(visit) {
    if (visit.visitAt.getTime() - REMIND_BEFORE_MS <= Date.now()) {
      await notifier.cancel({ replaceKey: reminderKey(visit.id) });
      return;
    }
    const job = await notifier.trigger('visit-reminder', messageData(visit));
    visit.messages.push({ kind: 'reminder', jobId: job.id });
  }

  return {
    get: (id) => visits.get(id),

    /** A visit not yet stored: the booking route confirms it first, then calls `booked()`. */
    newVisit({ name, phone, service, visitAt }) {
      return {
        id: randomBytes(16).toString('base64url'),
        name,
        phone,
        service,
        visitAt,
        status: 'booked',
        messages: [],
      };
    },

    messageData,

    /**
     * The confirmation `confirmationId` is queued: keep the visit and schedule its reminder. The
     * patient is booked either way: a reminder the notifier refuses (its queue full) is logged
     * rather than shown as a failed booking, which would only make the patient book twice.
     */
    async booked(visit, confirmationId) {
      visits.set(visit.id, visit);
      visit.messages.push({ kind: 'booked', jobId: confirmationId });
      try {
        await scheduleReminder(visit);
      } catch (error) {
        console.error(`clinic: no reminder for visit ${visit.id}:`, error);
      }
    },

    /** A new time: the reminder follows it (or is taken back), and the move is confirmed now. */
    async move(visit, visitAt) {
      visit.visitAt = visitAt;
      await scheduleReminder(visit);
      const job = await notifier.trigger('visit-moved', messageData(visit));
      visit.messages.push({ kind: 'moved', jobId: job.id });
    },

    /**
     * Takes the reminder back and says so. `cancel()` is false when the reminder is already out
     * (or being sent this very moment): nothing to take back then, and the cancellation still goes.
     */
    async cancel(visit) {
      await notifier.cancel({ replaceKey: reminderKey(visit.id) });
      visit.status = 'cancelled';
      const job = await notifier.trigger('visit-cancelled', messageData(visit));
      visit.messages.push({ kind: 'cancelled', jobId: job.id });
    },
  };
}
