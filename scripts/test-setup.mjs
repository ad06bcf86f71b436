#!/usr/bin/env node
// `pnpm test`'s first step: makes sure redis-server and Chromium are there, so the README's test
// command alone passes on a fresh machine. As root on Debian/Ubuntu (CI, a container) it installs
// what is missing with apt-get; elsewhere it prints one line with the command to run, and the tests
// that need the missing program are skipped (under CI they fail instead).
import { spawnSync } from 'node:child_process';
import { findOnPath, isCi, missingSystemPackages, planTestSetup } from './system-deps.mjs';

const facts = () => ({
  missing: missingSystemPackages(),
  isRoot: process.getuid?.() === 0,
  hasAptGet: findOnPath('apt-get') !== undefined,
  platform: process.platform,
  ci: isCi(),
});

const plan = planTestSetup(facts());
if (plan.action === 'install') {
  console.log(plan.notice);
  const failure =
    aptGet(['update', '-qq']) ?? aptGet(['install', '-y', '-qq', '--no-install-recommends', ...plan.packages]);
  if (failure) console.error(`test-setup: apt-get failed:\n${failure}`);
  // Whatever apt-get did, say what is still missing (a name Ubuntu lacks, no network…).
  const after = planTestSetup({ ...facts(), aptTried: true });
  if (after.action === 'advise') finish(after);
} else if (plan.action === 'advise') {
  finish(plan);
}

/** Runs apt-get quietly; its output only when it fails. */
function aptGet(args) {
  const result = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status === 0) return undefined;
  return `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
}

function finish({ message, fail }) {
  console.error(message);
  if (fail) process.exit(1);
}
