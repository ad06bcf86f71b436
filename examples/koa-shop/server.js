// node server.js with OLCHAT_TOKEN, SHOP_API_KEY and WEBHOOK_SECRET set (PORT defaults to 3001).
import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { createShop } from './app.js';
import { rules } from './rules.js';

const { OLCHAT_TOKEN, SHOP_API_KEY, WEBHOOK_SECRET, PORT = '3001' } = process.env;
if (!OLCHAT_TOKEN || !SHOP_API_KEY || !WEBHOOK_SECRET) {
  console.error('Set OLCHAT_TOKEN, SHOP_API_KEY and WEBHOOK_SECRET.');
  process.exit(1);
}
const client = new OlchatClient({ token: OLCHAT_TOKEN });
const notifier = createNotifier({ client, rules });
const server = createShop({ notifier, apiKey: SHOP_API_KEY, webhookSecret: WEBHOOK_SECRET }).listen(
  Number(PORT),
  () => {
    console.log(`Shop backend: http://localhost:${server.address().port}/`);
  },
);

// Ctrl+C under `pnpm start` arrives twice (the terminal's, and pnpm's copy): one shutdown, and the
// second signal must not kill the process while it still delivers the queue.
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  await notifier.close({ timeoutMs: 30_000 });
  await client.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
