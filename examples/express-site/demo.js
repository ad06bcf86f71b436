// `pnpm demo`: the site plus an embedded OLChat emulator, so no OLChat account is needed.
// With OLCHAT_TOKEN set, the same site talks to the real OLChat instead.
import { createServer } from 'node:http';
import { startEmulator } from '@olchat-kit/testing';
import { createSite } from './app.js';
import { createOlchat } from './olchat.js';

const port = Number(process.env.PORT ?? 3000);
const realToken = process.env.OLCHAT_TOKEN;

let notifier;
const emulator = realToken
  ? undefined
  : await startEmulator({
      // Next to the site by default (3001 beside 3000), so the inbox address stays the same between runs.
      port: Number(process.env.EMULATOR_PORT ?? (port ? port + 1 : 0)),
      // The inbox page's "Отправить 20" button queues a burst through the site's own notifier.
      onBurst: async (count) => {
        for (let i = 1; i <= count; i++) {
          await notifier.send({ phone: '+7 700 123 45 67', text: `Рассылка: сообщение ${i} из ${count}` });
        }
      },
    });
const olchat = createOlchat(emulator ? { token: emulator.token, baseUrl: emulator.baseUrl } : { token: realToken });
notifier = olchat.notifier;

const server = createServer(createSite({ notifier })).listen(port, () => {
  const site = `http://localhost:${server.address().port}/`;
  console.log(`olchat-kit demo\n  Site (order form):         ${site}`);
  if (emulator) console.log(`  WhatsApp inbox (emulator): ${emulator.url}/`);
  else console.log('  Sending through the real OLChat (OLCHAT_TOKEN is set).');
  console.log('Press Ctrl+C to stop.');
});

async function shutdown() {
  server.close();
  await notifier.close({ timeoutMs: 10_000 });
  await olchat.client.close();
  await emulator?.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
