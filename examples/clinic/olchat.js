import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { rules } from './rules.js';

/**
 * No `normal` message (the reminders) goes out from 21:00 to 09:00 in the patient's time zone:
 * Almaty time for a +7 7xx number, Moscow time otherwise. `high` ones (what the patient just did
 * on the site) pass.
 */
export const QUIET_HOURS = { start: '21:00', end: '09:00' };

/** The clinic's notifier on any OLChat client: the tests hand it a client of their own. */
export function createClinicNotifier({ client, ...options }) {
  return createNotifier({ client, rules, quietHours: QUIET_HOURS, ...options });
}

/** The OLChat client and the clinic's notifier; `baseUrl` points them at the emulator. */
export function createOlchat({ token, baseUrl, logger } = {}) {
  const client = new OlchatClient({ token, ...(baseUrl ? { baseUrl } : {}), ...(logger ? { logger } : {}) });
  return { client, notifier: createClinicNotifier({ client, ...(logger ? { logger } : {}) }) };
}
