import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { isCi, missingReason } from './scripts/system-deps.mjs';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

// Without redis-server the Redis package's tests cannot run: outside CI they are left out, said once
// (`pnpm test` installs it where it can). Under CI they run and fail loudly.
const redisMissing = isCi() ? undefined : missingReason('redis-server');
// Vitest loads this file once per project: say it once.
const warned = Symbol.for('olchat-kit.redis-missing-warned');
if (redisMissing && !(globalThis as Record<symbol, unknown>)[warned]) {
  (globalThis as Record<symbol, unknown>)[warned] = true;
  console.warn(`Skipping packages/redis/test and the Redis queue conformance suite: ${redisMissing}`);
}

/**
 * The HTTP conformance suite once per framework major: `express` (or `koa`) is aliased to that
 * version for the adapter's source and the suite alike, and the suite checks which one it got.
 */
function conformance(adapter: 'express' | 'koa', major: number): TestProjectInlineConfiguration {
  const framework = `${adapter}${major}`;
  return {
    extends: true,
    resolve: { alias: { [adapter]: framework } },
    test: {
      name: framework,
      include: ['test/conformance/**/*.test.ts'],
      env: { OLCHAT_ADAPTER: adapter, OLCHAT_FRAMEWORK_MAJOR: String(major) },
    },
  };
}

/**
 * The queue conformance suite once per queue kind: the same tests on the memory queue and on the
 * Redis queue (a real redis-server), both checked against core's transition table.
 */
function queueConformance(queue: 'memory' | 'redis'): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name: `queue-${queue}`,
      include: ['test/queue-conformance/**/*.test.ts'],
      env: { OLCHAT_QUEUE: queue },
    },
  };
}

export default defineConfig({
  resolve: {
    // Tests run against the sources; the pack test checks the built packages separately.
    alias: [
      { find: /^@olchat-kit\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@olchat-kit\/([a-z-]+)\/([a-z-]+)$/, replacement: `${packages}$1/src/$2/index.ts` },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Most files spend their time waiting on real time (a vendor window, a 60 s outage, a child
    // process), not on the CPU: five at once on two cores keeps the suite near three minutes.
    maxWorkers: 5,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
          ],
          exclude: [
            ...configDefaults.exclude,
            'test/conformance/**',
            'test/queue-conformance/**',
            ...(redisMissing ? ['packages/redis/test/**'] : []),
          ],
        },
      },
      conformance('express', 4),
      conformance('express', 5),
      conformance('koa', 2),
      conformance('koa', 3),
      queueConformance('memory'),
      ...(redisMissing ? [] : [queueConformance('redis')]),
    ],
  },
});
