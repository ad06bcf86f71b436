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

async function shutdown() {
  server.close();
  await notifier.close({ timeoutMs: 30_000 }); // deliver what is queued before exiting
  await client.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
