// node server.js with OLCHAT_TOKEN set (and OLCHAT_BASE_URL to use the emulator of `npx olchat-kit emulator`).
// PORT defaults to 3000; PUBLIC_URL is the site's address in the links of the messages.
import { createServer } from 'node:http';
import { createClinicApp } from './app.js';
import { createOlchat } from './olchat.js';

const token = process.env.OLCHAT_TOKEN?.trim();
if (!token) {
  console.error(
    'Set OLCHAT_TOKEN: the webhook token from OLChat → connector settings → Webhook, or the one `npx olchat-kit emulator` prints (with OLCHAT_BASE_URL).',
  );
  process.exit(1);
}
const baseUrl = process.env.OLCHAT_BASE_URL?.trim() || undefined;
const { client, notifier } = createOlchat({ token, baseUrl });

const server = createServer();
server.listen(Number(process.env.PORT ?? 3000), () => {
  const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${server.address().port}`;
  server.on('request', createClinicApp({ notifier, publicUrl }));
  console.log(`Clinic (booking form): ${publicUrl}/`);
  console.log(baseUrl ? `OLChat API: ${baseUrl}` : 'OLChat API: the real OLChat');
  console.log('Press Ctrl+C to stop.');
});

async function shutdown() {
  server.close();
  // Reminders still scheduled stay in this process's memory and are lost: a clinic runs the
  // notifier on the Redis queue of @olchat-kit/redis, which keeps them across restarts.
  await notifier.close({ timeoutMs: 10_000 });
  await client.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
