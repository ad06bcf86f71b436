// Production start: node server.js with OLCHAT_TOKEN set (PORT defaults to 3000).
import { createServer } from 'node:http';
import { createSite } from './app.js';
import { createOlchat } from './olchat.js';

const token = process.env.OLCHAT_TOKEN;
if (!token) {
  console.error('Set OLCHAT_TOKEN to the webhook token from OLChat → connector settings → Webhook.');
  process.exit(1);
}
const { client, notifier } = createOlchat({ token });
const server = createServer(createSite({ notifier })).listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`Site: http://localhost:${server.address().port}/`);
});

// Ctrl+C under `pnpm start` arrives twice (the terminal's, and pnpm's copy): one shutdown, and the
// second signal must not kill the process while it still delivers the queue.
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  await notifier.close({ timeoutMs: 30_000 }); // deliver what is queued before exiting
  await client.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
