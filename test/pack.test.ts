import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractSamples, runSample } from './helpers/run-sample.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['--yes', 'pnpm@10.34.9'];
const packages = ['core', 'testing', 'express', 'koa', 'redis', 'prometheus', 'opentelemetry', 'cli'];
let scratch = '';
const tarballs: Record<string, string> = {};

// The packages as npm would publish them: packed, installed into an app outside the workspace.
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'olchat-kit-pack-'));
  for (const pkg of packages) {
    await run('npx', [...PNPM, 'pack', '--pack-destination', scratch], { cwd: join(root, 'packages', pkg) });
  }
  for (const file of await readdir(scratch)) {
    const pkg = packages.find((p) => file.startsWith(`olchat-kit-${p}-`));
    if (pkg) tarballs[pkg] = join(scratch, file);
  }
  const app = join(scratch, 'app');
  await run('mkdir', ['-p', app]);
  const local = Object.fromEntries(packages.map((p) => [`@olchat-kit/${p}`, `file:${tarballs[p]}`]));
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'scratch-shop',
      private: true,
      type: 'module',
      dependencies: {
        ...local,
        express: '^5.1.0',
        zod: '^4.1.0',
        'prom-client': '^15.1.0',
        '@opentelemetry/api': '~1.9.0',
        '@opentelemetry/sdk-trace-base': '~2.12.0',
      },
      // The packages depend on each other by version: take those from the tarballs, not the registry.
      overrides: local,
    }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the packages as published', () => {
  it('each tarball holds the built code, types, README and LICENSE, and no tests', async () => {
    for (const pkg of packages) {
      const { stdout } = await run('tar', ['-tzf', tarballs[pkg] as string]);
      const files = stdout.split('\n');
      for (const needed of [
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/README.md',
        'package/LICENSE',
      ]) {
        expect(files, `${pkg} lacks ${needed}`).toContain(needed);
      }
      expect(
        files.some((f) => f.includes('/test/') || f.endsWith('.test.ts')),
        `${pkg} ships tests`,
      ).toBe(false);
      const { stdout: manifest } = await run('tar', ['-xzOf', tarballs[pkg] as string, 'package/package.json']);
      expect(manifest, `${pkg} still says workspace:`).not.toContain('workspace:');
    }
  });

  it('a CommonJS app require()s every package as published', async () => {
    const app = join(scratch, 'app');
    const requires = packages.map((p) => `require('@olchat-kit/${p}');`).join('\n');
    await writeFile(join(app, 'require-all.cjs'), `${requires}\nconsole.log('loaded');\n`);
    const { stdout, stderr } = await run(process.execPath, ['require-all.cjs'], { cwd: app });
    expect(stdout.trim()).toBe('loaded');
    expect(stderr).toBe('');
  });

  it('the olchat-kit command is installed with @olchat-kit/cli and checks a line', async () => {
    const bin = join(scratch, 'app', 'node_modules', '.bin', 'olchat-kit');
    const { stdout } = await run(bin, ['--version']);
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')).version);
    const emu = await startEmulator();
    try {
      const check = await run(bin, ['check'], {
        env: { ...process.env, OLCHAT_TOKEN: emu.token, OLCHAT_BASE_URL: emu.baseUrl },
      });
      expect(check.stdout).not.toContain(emu.token);
    } finally {
      await emu.close();
    }
  });

  it("the README's Express sample runs in an app outside the workspace", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const sample = extractSamples(readme, 'README.md').find(
      (s) => s.code.includes("from '@olchat-kit/express'") && s.check.request,
    );
    expect(sample).toBeDefined();
    const emu = await startEmulator();
    try {
      const result = await runSample(
        sample as NonNullable<typeof sample>,
        join(scratch, 'app'),
        { OLCHAT_TOKEN: emu.token, OLCHAT_BASE_URL: emu.baseUrl },
        {
          beforeStop: () => emu.waitForMessages(1, 15_000),
        },
      );
      expect(result.status, result.output).toBe(303);
      expect(emu.messages).toHaveLength(1);
      expect(emu.messages[0]?.text).toContain('Здравствуйте, Анна!');
    } finally {
      await emu.close();
    }
  });

  it("the README's tracing sample runs with the published @olchat-kit/opentelemetry", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const sample = extractSamples(readme, 'README.md').find((s) => s.code.includes("from '@olchat-kit/opentelemetry'"));
    expect(sample).toBeDefined();
    const emu = await startEmulator();
    try {
      const result = await runSample(sample as NonNullable<typeof sample>, join(scratch, 'app'), {
        OLCHAT_TOKEN: emu.token,
        OLCHAT_BASE_URL: emu.baseUrl,
      });
      expect(result.exitCode, result.output).toBe(0);
      expect(emu.messages).toHaveLength(1);
      expect(result.output).toContain("name: 'olchat.send'");
      expect(result.output).not.toContain(emu.token);
    } finally {
      await emu.close();
    }
  });
});
