import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { rules } from './rules.js';

/** The OLChat client and notifier; `baseUrl` points them at the emulator in the demo and tests. */
export function createOlchat({ token, baseUrl, logger, limiterStore } = {}) {
  const client = new OlchatClient({
    token,
    ...(baseUrl ? { baseUrl } : {}),
    ...(logger ? { logger } : {}),
    ...(limiterStore ? { limiterStore } : {}),
  });
  const notifier = createNotifier({ client, rules });
  return { client, notifier };
}
