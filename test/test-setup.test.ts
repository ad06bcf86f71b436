import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  missingReason,
  missingSystemPackages,
  planTestSetup,
  type SetupFacts,
  SYSTEM_PACKAGES,
  skipReason,
} from '../scripts/system-deps.mjs';
import { skipUnless } from './helpers/skip.js';

// `pnpm test` starts with scripts/test-setup.mjs: these tests check what it decides for each machine
// (which packages are missing, root or not, apt-get or not, CI or not) without installing anything.
const setupScript = fileURLToPath(new URL('../scripts/test-setup.mjs', import.meta.url));
const [redis, chromium] = SYSTEM_PACKAGES as [(typeof SYSTEM_PACKAGES)[number], (typeof SYSTEM_PACKAGES)[number]];
const debianRoot: SetupFacts = { missing: [], isRoot: true, hasAptGet: true, platform: 'linux', ci: false };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A directory to use as PATH, holding executables with the given names (or nothing). */
function fakeBin(names: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'olchat-test-setup-'));
  dirs.push(dir);
  for (const name of names) {
    writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

describe('what the test set-up decides', () => {
  it('does nothing when redis-server and chromium are there', () => {
    expect(planTestSetup(debianRoot)).toEqual({ action: 'none' });
    expect(planTestSetup({ ...debianRoot, isRoot: false, hasAptGet: false, ci: true })).toEqual({ action: 'none' });
  });

  it('as root on Debian/Ubuntu installs exactly what is missing, with a one-line notice', () => {
    const both = planTestSetup({ ...debianRoot, missing: [redis, chromium] });
    expect(both).toMatchObject({ action: 'install', packages: ['redis-server', 'chromium'] });
    expect(both.action === 'install' && both.notice).toMatch(/^test-setup: installing redis-server and chromium/);
    expect(both.action === 'install' && both.notice).not.toContain('\n');

    expect(planTestSetup({ ...debianRoot, missing: [chromium] })).toMatchObject({
      action: 'install',
      packages: ['chromium'],
    });
    expect(planTestSetup({ ...debianRoot, missing: [redis], ci: true })).toMatchObject({
      action: 'install',
      packages: ['redis-server'],
    });
  });

  it('without root, names the sudo command and the tests it will skip, and does not fail', () => {
    const plan = planTestSetup({ ...debianRoot, isRoot: false, missing: [redis] });
    expect(plan).toMatchObject({ action: 'advise', fail: false });
    const message = plan.action === 'advise' ? plan.message : '';
    expect(message).toContain('sudo apt-get install redis-server');
    expect(message).toContain('the Redis tests');
    expect(message).toContain('will be skipped');
    expect(message).not.toContain('\n');
  });

  it('on macOS names brew, and CHROMIUM_PATH for the browser', () => {
    const plan = planTestSetup({
      ...debianRoot,
      isRoot: false,
      hasAptGet: false,
      platform: 'darwin',
      missing: [redis, chromium],
    });
    const message = plan.action === 'advise' ? plan.message : '';
    expect(message).toContain('brew install redis');
    expect(message).toContain('brew install --cask chromium');
    expect(message).toContain('CHROMIUM_PATH');
    expect(message).toContain("the demo's browser test");
  });

  it('under CI, a package it cannot install fails the run instead of skipping tests', () => {
    const plan = planTestSetup({ ...debianRoot, isRoot: false, missing: [chromium], ci: true });
    expect(plan).toMatchObject({ action: 'advise', fail: true });
  });

  it('after apt-get ran, a package still missing is reported, not installed again', () => {
    const plan = planTestSetup({ ...debianRoot, missing: [chromium], aptTried: true });
    expect(plan).toMatchObject({ action: 'advise' });
    expect(plan.action === 'advise' && plan.message).toContain('apt-get install chromium');
    expect(plan.action === 'advise' && plan.message).not.toContain('sudo');
  });
});

describe('what counts as missing', () => {
  it('finds redis-server on PATH and Chromium at CHROMIUM_PATH', () => {
    const bin = fakeBin(['redis-server', 'my-chrome']);
    expect(missingSystemPackages({ PATH: bin, CHROMIUM_PATH: join(bin, 'my-chrome') })).toEqual([]);
    const empty = fakeBin();
    const missing = missingSystemPackages({ PATH: empty, CHROMIUM_PATH: join(empty, 'no-chrome') });
    expect(missing.map((pkg) => pkg.apt)).toEqual(['redis-server', 'chromium']);
  });

  it('a test that needs a missing package is skipped with the reason, but fails under CI', () => {
    const env = { PATH: fakeBin(), CHROMIUM_PATH: '/nonexistent/chromium' };
    expect(skipReason('redis-server', env)).toMatch(/^redis-server is not installed, so the Redis tests/);
    expect(() => skipReason('redis-server', { ...env, CI: 'true' })).toThrow(/CI: redis-server is not installed/);
    expect(skipReason('redis-server', { ...env, CI: 'false' })).toBeDefined();
    expect(missingReason('chromium', { ...env, CHROMIUM_PATH: join(fakeBin(['c']), 'c') })).toBeUndefined();
  });
});

describe('scripts/test-setup.mjs as pnpm test runs it', () => {
  // PATH without apt-get, so even as root nothing is installed here.
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [setupScript], { env: { ...env, HOME: tmpdir() }, encoding: 'utf8' });

  it('prints nothing and succeeds when everything is there', () => {
    const bin = fakeBin(['redis-server', 'chromium']);
    const result = run({ PATH: bin, CHROMIUM_PATH: join(bin, 'chromium') });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('prints one line naming the command and the skipped tests, and lets the run go on', () => {
    const result = run({ PATH: fakeBin(), CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(result.status).toBe(0);
    const lines = (result.stdout + result.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('redis-server and chromium are not installed');
    expect(lines[0]).toContain('the Redis tests');
    expect(lines[0]).toContain("the demo's browser test");
  });

  it('under CI the same machine fails the run', () => {
    const result = run({ PATH: fakeBin(), CHROMIUM_PATH: '/nonexistent/chromium', CI: 'true' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('CI does not skip');
  });

  // A stand-in apt-get on PATH: it logs how it was called and "installs" by creating the programs,
  // so the install path runs for real without touching the machine. The script installs only as root.
  function fakeApt(dir: string, { fail = false } = {}): string {
    const script = `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> "${dir}/apt.log"
echo "Reading package lists... (apt-get's own chatter)"
${fail ? 'echo "E: Unable to locate package chromium" >&2; exit 100' : ''}
if [ "$1" = install ]; then
  for pkg in "$@"; do
    case "$pkg" in redis-server|chromium) printf '#!/bin/sh\\n' > "${dir}/$pkg"; /bin/chmod 755 "${dir}/$pkg";; esac
  done
fi
`;
    writeFileSync(join(dir, 'apt-get'), script);
    chmodSync(join(dir, 'apt-get'), 0o755);
    return dir;
  }
  const asRoot = process.getuid?.() === 0 && process.platform === 'linux';

  const asRootOnly = 'the set-up script installs only as root on Linux';

  it('as root with apt-get: update, then install what is missing, with one notice line', (context) => {
    skipUnless(context, asRoot, asRootOnly);
    const bin = fakeApt(fakeBin());
    const result = run({ PATH: bin, CHROMIUM_PATH: join(bin, 'chromium') });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^test-setup: installing redis-server and chromium with apt-get/),
    ]);
    expect(result.stderr).toBe('');
    expect(readFileSync(join(bin, 'apt.log'), 'utf8').trim().split('\n')).toEqual([
      'noninteractive update -qq',
      'noninteractive install -y -qq --no-install-recommends redis-server chromium',
    ]);
  });

  it('when apt-get fails, its output and the command to run, then skip (fail under CI)', (context) => {
    skipUnless(context, asRoot, asRootOnly);
    const bin = fakeApt(fakeBin(), { fail: true });
    const result = run({ PATH: bin, CHROMIUM_PATH: join(bin, 'chromium') });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('Unable to locate package chromium');
    expect(result.stderr).toContain('will be skipped; to run them: apt-get install redis-server chromium');
    expect(run({ PATH: bin, CHROMIUM_PATH: join(bin, 'chromium'), CI: 'true' }).status).toBe(1);
  });
});

describe('a test that cannot run on this machine', () => {
  it('is skipped, saying why; under CI it fails instead', () => {
    const skipped: (string | undefined)[] = [];
    const context = { skip: (note?: string) => void skipped.push(note) };
    skipUnless(context, true, 'never said');
    expect(skipped).toEqual([]);
    skipUnless(context, false, 'needs Linux', { CI: 'false' });
    expect(skipped).toEqual(['needs Linux']);
    expect(() => skipUnless(context, false, 'needs Linux', { CI: 'true' })).toThrow(
      'CI does not skip this test: needs Linux',
    );
    expect(skipped).toHaveLength(1);
  });
});
