// `pnpm demo`: the site plus an embedded OLChat emulator, so no OLChat account is needed.
// With OLCHAT_TOKEN set, the same site talks to the real OLChat instead.
// HOST (default 127.0.0.1: this machine only) and PORT (default 3000) say where the site listens.
import { createServer } from 'node:http';
import { MemoryLimiterStore } from '@olchat-kit/core';
import { startEmulator } from '@olchat-kit/testing';
import { createSite } from './app.js';
import { createOlchat } from './olchat.js';
import { reminderPage } from './views.js';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const realToken = process.env.OLCHAT_TOKEN;

let notifier;
const emulator = realToken
  ? undefined
  : await startEmulator({
      host,
      // Next to the site by default (3001 beside 3000), so the inbox address stays the same between runs.
      port: Number(process.env.EMULATOR_PORT ?? (port ? port + 1 : 0)),
      // The inbox shows a phone's ticks: delivered after 2 s, read after 6 s.
      delivery: { deliveredAfterMs: 2000, readAfterMs: 6000 },
      // The inbox page's "Отправить 20" button queues a burst through the site's own notifier.
      onBurst: async (count) => {
        for (let i = 1; i <= count; i++) {
          await notifier.send({ phone: '+7 700 123 45 67', text: `Рассылка: сообщение ${i} из ${count}` });
        }
      },
    }).catch((error) => exitWith(`The emulator could not start on ${host}: ${error.message} (set EMULATOR_PORT)`));
// The embedded emulator starts with this process: no earlier run used its window, so the first
// order goes at once. Against the real OLChat the window of a run just before is held (the default).
const olchat = createOlchat(
  emulator
    ? {
        token: emulator.token,
        baseUrl: emulator.baseUrl,
        limiterStore: new MemoryLimiterStore({ assumeRecentUse: false }),
      }
    : { token: realToken },
);
notifier = olchat.notifier;

const site = createSite({ notifier });
// Demo only: a page that schedules a WhatsApp reminder a minute ahead (`sendAt`), to watch a scheduled
// message arrive in the inbox. Pressing again moves the pending one (same `replaceKey`); the page then
// says when it is due and what became of it.
const reminderDelayMs = Number(process.env.DEMO_REMINDER_MS ?? 60_000);
site.get('/demo/reminder', async (req, res, next) => {
  try {
    const id = typeof req.query.job === 'string' ? req.query.job : undefined;
    const record = id === undefined ? undefined : await notifier.get(id);
    const reminder = record?.sendAt === undefined ? undefined : record;
    const page = reminderPage({
      delaySec: Math.round(reminderDelayMs / 1000),
      inboxUrl: emulator && `${emulator.url}/`,
      reminder,
    });
    res.type('html').send(page);
  } catch (error) {
    next(error);
  }
});
site.post('/demo/reminder', async (_req, res, next) => {
  try {
    const job = await notifier.send(
      {
        phone: '+7 700 123 45 67',
        text: 'Напоминание, запланированное минуту назад: курьер привезёт ваш букет сегодня. — Цветочная лавка «Ромашка»',
      },
      { sendAt: Date.now() + reminderDelayMs, replaceKey: 'demo:reminder', priority: 'high' },
    );
    res.redirect(303, `/demo/reminder?job=${encodeURIComponent(job.id)}`);
  } catch (error) {
    next(error);
  }
});

const server = createServer(site);
server.once('error', (error) => exitWith(`The site could not listen on ${host}:${port}: ${error.message} (set PORT)`));
server.listen(port, host, () => {
  const url = urlOf(host, server.address().port);
  console.log(`olchat-kit demo\n  Site (order form):         ${url}`);
  console.log(`  Reminder in a minute:      ${url}demo/reminder`);
  if (emulator) console.log(`  WhatsApp inbox (emulator): ${emulator.url}/`);
  else console.log('  Sending through the real OLChat (OLCHAT_TOKEN is set).');
  if (isWildcard(host)) console.log(`  Listening on every interface (HOST=${host}).`);
  console.log('Press Ctrl+C to stop.');
});

// Ctrl+C reaches this process twice under `pnpm demo` (from the terminal, and forwarded by pnpm):
// the first starts one clean shutdown, later ones wait for it. Exit 0, so pnpm reports no failure.
let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  stop().then(
    () => process.exit(0),
    (error) => exitWith(`Stopping failed: ${error.message}`),
  );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

async function stop() {
  console.log('Stopping…');
  // Leave after 15 s whatever still hangs, rather than keep the terminal.
  setTimeout(() => process.exit(0), 15_000).unref();
  const siteClosed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  // With the emulator nothing real is at stake; with a real token, deliver what is queued.
  await notifier.close({ timeoutMs: emulator ? 2_000 : 10_000 });
  await olchat.client.close();
  await emulator?.close();
  await siteClosed;
}

function exitWith(message) {
  console.error(message);
  process.exit(1);
}

function isWildcard(address) {
  return address === '0.0.0.0' || address === '::';
}

/** A URL a browser on this machine can open: a wildcard address is shown as loopback. */
function urlOf(address, listenPort) {
  const shown = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${listenPort}/`;
}
