import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { rules } from './rules.js';

/** The OLChat client and notifier; `baseUrl` points them at the emulator in the demo and tests. */
export function createOlchat({ token, baseUrl, logger } = {}) {
  const client = new OlchatClient({ token, ...(baseUrl ? { baseUrl } : {}), ...(logger ? { logger } : {}) });
  const notifier = createNotifier({ client, rules });
  return { client, notifier };
}
