import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@olchat-kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../packages/redis/test/helpers/redis-server.js';
import { skipReason } from '../scripts/system-deps.mjs';
import { extractSamples, runSample, typecheckSamples } from './helpers/run-sample.js';

// Every ```js block of both READMEs runs as its own Node process against the emulator (and a real
// Redis where it says so), so the docs cannot drift from the code.
const root = fileURLToPath(new URL('..', import.meta.url));
const readmes = ['README.md', 'README.ru.md'];
let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.destroy();
});

// Besides running, every sample compiles as TypeScript under --strict against the built packages'
// declarations, as pasted into a TypeScript app: one tsc run for all of them.
describe('README code samples as TypeScript', () => {
  it('typecheck under tsc --strict', async () => {
    expect(existsSync(`${root}packages/core/dist/index.d.ts`), 'build first: pnpm -r build (pnpm test does)').toBe(
      true,
    );
    const samples = readmes.flatMap((readme) => extractSamples(readFileSync(`${root}${readme}`, 'utf8'), readme));
    const result = await typecheckSamples(samples, root);
    expect(result.errors, result.errors.join('\n')).toEqual([]);
    expect(result.exitCode, result.output).toBe(0);
  });
});

describe.each(readmes)('%s code samples', (readme) => {
  const samples = extractSamples(readFileSync(`${root}${readme}`, 'utf8'), readme);

  it('has samples, and the built packages they import', () => {
    expect(samples.length).toBeGreaterThanOrEqual(8);
    expect(existsSync(`${root}packages/core/dist/index.js`), 'build first: pnpm -r build (pnpm test does)').toBe(true);
  });

  it.for(samples.map((s) => [`line ${s.line}`, s] as const))('%s runs as written', async ([, sample], { skip }) => {
    const redisMissing = sample.check.redis ? skipReason('redis-server') : undefined;
    if (redisMissing) skip(redisMissing);
    const emu = await startEmulator();
    try {
      const env: Record<string, string> = {
        OLCHAT_TOKEN: emu.token,
        OLCHAT_BASE_URL: emu.baseUrl,
        OLCHAT_SECRET: 'docs-sample-secret-0123456789',
      };
      if (sample.check.redis) {
        redis ??= await RedisServer.start();
        env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
      }
      const expected = sample.check.messages ?? 0;
      const run = await runSample(sample, root, env, { beforeStop: () => emu.waitForMessages(expected, 15_000) });
      if (sample.check.request) {
        expect(run.status, `${run.body}\n${run.output}`).toBe(sample.check.status);
      } else {
        expect(run.exitCode, `exit ${run.exitCode}\n${run.output}`).toBe(0);
      }
      if (!sample.check.request) await emu.waitForMessages(expected, 15_000);
      expect(emu.messages).toHaveLength(expected);
      expect(emu.violations).toHaveLength(0);
      expect(run.output).not.toContain(emu.token);
    } finally {
      await emu.close();
    }
  });
});
