import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyNotifier } from '@olchat-kit/core';
import { olchatDashboard as expressDashboard } from '@olchat-kit/express';
import { olchatDashboard as koaDashboard } from '@olchat-kit/koa';
import express from 'express';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../helpers/waiting.js';
import { ADMIN, basicAuthHeader, type Emulator, isAuthorized, makeNotifier, startVendor } from './helpers.js';

const MOUNT = '/admin/olchat';
const PHONE = '79123456789';

let emu: Emulator;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  emu = await startVendor();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

/** The README's Express setup: basic auth in front of the dashboard's mount point. */
function expressApp(notifier: AnyNotifier, withBodyParser: boolean): express.Express {
  const app = express();
  if (withBodyParser) app.use(express.urlencoded({ extended: false }));
  const basicAuth: express.RequestHandler = (req, res, next) => {
    if (isAuthorized(req.headers, ADMIN.username, ADMIN.password)) return next();
    res.set('WWW-Authenticate', 'Basic realm="admin", charset="UTF-8"').status(401).send('Authentication required');
  };
  app.use(MOUNT, basicAuth, expressDashboard(notifier));
  return app;
}

/** The README's Koa setup: basic auth for every path below the prefix, then the dashboard's router. */
function koaApp(notifier: AnyNotifier): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    const admin = ctx.path === MOUNT || ctx.path.startsWith(`${MOUNT}/`);
    if (admin && !isAuthorized(ctx.headers, ADMIN.username, ADMIN.password)) {
      ctx.set('WWW-Authenticate', 'Basic realm="admin", charset="UTF-8"');
      ctx.status = 401;
      ctx.body = 'Authentication required';
      return;
    }
    await next();
  });
  app.use(koaDashboard(notifier, { prefix: MOUNT }).routes());
  return app;
}

async function listen(handler: Parameters<typeof import('node:http').createServer>[1]): Promise<string> {
  const { createServer } = await import('node:http');
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function setup(kind: 'express' | 'express+urlencoded' | 'koa') {
  const notifier = makeNotifier(emu);
  cleanups.push(async () => {
    await notifier.close({ timeoutMs: 1000 });
    await notifier.client.close();
  });
  const handler = kind === 'koa' ? koaApp(notifier).callback() : expressApp(notifier, kind === 'express+urlencoded');
  const origin = await listen(handler);
  const auth = { authorization: basicAuthHeader(ADMIN.username, ADMIN.password) };
  return { notifier, origin, auth };
}

for (const kind of ['express', 'express+urlencoded', 'koa'] as const) {
  describe(`olchatDashboard on ${kind}`, () => {
    it('answers 401 without the admin credentials, and the page below the mount point with them', async () => {
      const { notifier, origin, auth } = await setup(kind);
      const job = await notifier.send({ phone: PHONE, text: 'Запись на завтра' }, { sendAt: Date.now() + 60_000 });
      for (const path of [MOUNT, `${MOUNT}/`, `${MOUNT}/jobs/${job.id}`, `${MOUNT}/assets/dashboard.css`]) {
        expect((await fetch(`${origin}${path}`)).status, path).toBe(401);
      }
      const res = await fetch(`${origin}${MOUNT}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).toContain(`href="${MOUNT}/jobs/${job.id}"`);
      expect(html).toContain(`action="${MOUNT}/jobs/${job.id}/cancel"`);
      expect(html).toContain('+7 912 ***-**-89');
      const css = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1] ?? '';
      const cssRes = await fetch(`${origin}${css}`, { headers: auth });
      expect(cssRes.status).toBe(200);
      expect(cssRes.headers.get('content-type')).toBe('text/css; charset=utf-8');
      const detail = await fetch(`${origin}${MOUNT}/jobs/${job.id}`, { headers: auth });
      expect(await detail.text()).toContain(`<code>${job.id}</code>`);
    });

    it('cancels from a same-origin form post (303 back below the mount point) and refuses a cross-site one', async () => {
      const { notifier, origin, auth } = await setup(kind);
      const job = await notifier.send({ phone: PHONE, text: 'Запись на завтра' }, { sendAt: Date.now() + 60_000 });
      const html = await (await fetch(`${origin}${MOUNT}/`, { headers: auth })).text();
      const token = /name="token" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const form = (fields: Record<string, string>) => ({
        method: 'POST',
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual' as const,
      });
      const formHeaders = { ...auth, 'content-type': 'application/x-www-form-urlencoded' };

      const crossSite = await fetch(`${origin}${MOUNT}/jobs/${job.id}/cancel`, {
        ...form({ token, back: 'list' }),
        headers: { ...formHeaders, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      });
      expect(crossSite.status).toBe(403);
      expect((await notifier.get(job.id))?.status).toBe('scheduled');

      const res = await fetch(`${origin}${MOUNT}/jobs/${job.id}/cancel`, {
        ...form({ token, back: 'list' }),
        headers: { ...formHeaders, origin, 'sec-fetch-site': 'same-origin' },
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${MOUNT}/?flash=cancelled&job=${job.id}`);
      expect((await notifier.get(job.id))?.status).toBe('cancelled');
    });

    it('leaves paths it does not serve to the app', async () => {
      const { origin, auth } = await setup(kind);
      expect((await fetch(`${origin}${MOUNT}/nothing-here`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${origin}/elsewhere`)).status).toBe(404);
    });
  });
}

describe('olchatDashboard on Koa', () => {
  it('matches its prefix exactly as written, so an auth check comparing the path covers every page', async () => {
    const { origin } = await setup('koa');
    const paths = [
      '/ADMIN/olchat',
      '/Admin/Olchat/',
      '//admin/olchat',
      '/admin/olchat%2F',
      '/admin%2Folchat/',
      '/%61dmin/olchat/',
    ];
    for (const path of paths) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(404);
    }
  });

  it('refuses a prefix that is not a path', () => {
    const notifier = makeNotifier(emu);
    cleanups.push(() => notifier.client.close());
    expect(() => koaDashboard(notifier, { prefix: 'admin' })).toThrow(/prefix/);
  });
});

describe('a retried job, end to end through Express', () => {
  it('is sent after the retry form is posted', async () => {
    const { notifier, origin, auth } = await setup('express');
    emu.fail('500');
    const failed = await finished(notifier, (await notifier.send({ phone: PHONE, text: 'Счёт' })).id);
    expect(failed.status).toBe('failed');
    const html = await (await fetch(`${origin}${MOUNT}/?status=failed`, { headers: auth })).text();
    const token = /name="token" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const sentAgain = finished(notifier, failed.id, ['sent']);
    const res = await fetch(`${origin}${MOUNT}/jobs/${failed.id}/retry`, {
      method: 'POST',
      body: new URLSearchParams({ token, back: 'job' }).toString(),
      redirect: 'manual',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded', origin },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${MOUNT}/jobs/${failed.id}?flash=retried`);
    expect((await sentAgain).status).toBe('sent');
  });
});
