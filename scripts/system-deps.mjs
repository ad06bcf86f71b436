// The two programs the test suite runs for real but npm cannot install: redis-server (the Redis
// package's tests and the README's Redis sample) and Chromium (the demo's browser test). Shared by
// `pnpm test`'s set-up step (scripts/test-setup.mjs) and by the tests that need them, so both agree
// on what is missing and say the same thing about it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One system package: its Debian/Ubuntu name, how to find it, and what cannot run without it. */
export const SYSTEM_PACKAGES = [
  {
    apt: 'redis-server',
    brew: 'redis',
    tests: "the Redis tests (packages/redis, the README's Redis sample)",
    find: (env) => findOnPath('redis-server', env),
  },
  {
    apt: 'chromium',
    brew: '--cask chromium',
    tests: "the demo's browser test",
    find: (env) => findChromium(env),
  },
];

/** The full path of `command` on `env.PATH`, or undefined. */
export function findOnPath(command, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, command);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/** Chromium for the browser test: `CHROMIUM_PATH` when set (any Chromium or Chrome), else Debian's. */
export function findChromium(env = process.env) {
  const path = env.CHROMIUM_PATH || '/usr/bin/chromium';
  return isExecutable(path) ? path : undefined;
}

/** The entries of SYSTEM_PACKAGES that this machine lacks. */
export function missingSystemPackages(env = process.env) {
  return SYSTEM_PACKAGES.filter((pkg) => pkg.find(env) === undefined);
}

/**
 * What `pnpm test` does about missing system packages, decided from facts alone (no side effects):
 * - nothing missing → `{ action: 'none' }`;
 * - root with apt-get (Debian/Ubuntu, as in CI), apt-get not tried yet → `{ action: 'install', packages, notice }`;
 * - otherwise → `{ action: 'advise', message, fail }`: one line naming the command and the tests that
 *   will be skipped; `fail` under CI, where a skipped test would hide a missing dependency.
 */
export function planTestSetup({ missing, isRoot, hasAptGet, platform, ci, aptTried = false }) {
  if (missing.length === 0) return { action: 'none' };
  const names = missing.map((pkg) => pkg.apt).join(' and ');
  const tests = missing.map((pkg) => pkg.tests).join(' and ');
  if (isRoot && hasAptGet && !aptTried) {
    return {
      action: 'install',
      packages: missing.map((pkg) => pkg.apt),
      notice: `test-setup: installing ${names} with apt-get for ${tests}…`,
    };
  }
  const command = installCommand(missing, { isRoot, hasAptGet, platform });
  const is = missing.length === 1 ? 'is' : 'are';
  const message = ci
    ? `test-setup: ${names} ${is} missing, and CI does not skip ${tests}: ${command}`
    : `test-setup: ${names} ${is} not installed, so ${tests} will be skipped; to run them: ${command}`;
  return { action: 'advise', message, fail: Boolean(ci) };
}

/** The command a person runs to install `missing` here. */
export function installCommand(missing, { isRoot = false, hasAptGet, platform }) {
  const chromium = missing.some((pkg) => pkg.apt === 'chromium');
  const pathHint = chromium ? ' (or set CHROMIUM_PATH to a Chromium or Chrome binary)' : '';
  if (hasAptGet) {
    return `${isRoot ? '' : 'sudo '}apt-get install ${missing.map((pkg) => pkg.apt).join(' ')}${pathHint}`;
  }
  if (platform === 'darwin') {
    const brew = missing.map((pkg) => `brew install ${pkg.brew}`).join(' && ');
    return `${brew}${chromium ? ', then set CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium' : ''}`;
  }
  return `install ${missing.map((pkg) => pkg.apt).join(' and ')} with your package manager${pathHint}`;
}

/** Why what needs `apt` (a SYSTEM_PACKAGES name) cannot run here, or undefined when it can. */
export function missingReason(apt, env = process.env) {
  const pkg = SYSTEM_PACKAGES.find((candidate) => candidate.apt === apt);
  if (!pkg) throw new Error(`unknown system package ${apt}`);
  if (pkg.find(env) !== undefined) return undefined;
  const command = installCommand([pkg], {
    isRoot: process.getuid?.() === 0,
    hasAptGet: findOnPath('apt-get', env) !== undefined,
    platform: process.platform,
  });
  return `${apt} is not installed, so ${pkg.tests} cannot run; to run them: ${command}`;
}

/**
 * For a test that needs `apt`: the reason to skip it, or undefined when it can run. Under CI a
 * missing package throws instead: CI must fail loudly, never pass by skipping.
 */
export function skipReason(apt, env = process.env) {
  const reason = missingReason(apt, env);
  if (reason && isCi(env)) throw new Error(`CI: ${reason}`);
  return reason;
}

/** CI sets CI=true (GitHub, GitLab…; `.ci/run` too). */
export function isCi(env = process.env) {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
