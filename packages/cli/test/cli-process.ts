import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(root, 'packages/cli/dist/bin.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

async function build(pkg: string): Promise<void> {
  // tsc may report type errors of work in progress elsewhere and still emit: judge by the files.
  await execFileAsync('npx', ['tsc', '-p', `packages/${pkg}/tsconfig.build.json`], { cwd: root }).catch(() => {});
}

/**
 * The tests run the built bin, as a user does. `pnpm test` builds every package first; run alone,
 * this builds what is missing, and the CLI again when its sources are newer than its build.
 */
export async function ensureBuilt(): Promise<void> {
  for (const pkg of ['core', 'testing']) {
    if (!existsSync(join(root, `packages/${pkg}/dist/index.js`))) await build(pkg);
  }
  const stale = !existsSync(BIN) || newestMtime(join(root, 'packages/cli/src')) > statSync(BIN).mtimeMs;
  if (stale) await build('cli');
  for (const file of [join(root, 'packages/core/dist/index.js'), join(root, 'packages/testing/dist/index.js'), BIN]) {
    if (!existsSync(file)) throw new Error(`${file} is missing after the build`);
  }
}

/** The environment a user's shell would give, minus any OLChat settings of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('OLCHAT_') && key !== 'FORCE_COLOR') env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/bin.js ...args` to its end, with exactly `env` (see `cleanEnv`). */
export function runCli(args: readonly string[], env: Record<string, string> = cleanEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface EmulatorProcess {
  child: ChildProcess;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  /** The two values of its `export` lines. */
  exports: { OLCHAT_BASE_URL: string; OLCHAT_TOKEN: string };
  /** The inbox page's address, as printed. */
  inboxUrl: string;
  /** Sends the signal and resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `olchat-kit emulator ...args` in the background, once it has printed its exports. */
export function startEmulatorProcess(args: readonly string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [BIN, 'emulator', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the emulator printed no exports within 20 s:\n${stdout}\n${stderr}`));
    }, 20_000);
    const check = () => {
      const baseUrl = /^export OLCHAT_BASE_URL=(\S+)$/m.exec(stdout)?.[1];
      const token = /^export OLCHAT_TOKEN=(\S+)$/m.exec(stdout)?.[1];
      const inbox = /Inbox: (\S+)/.exec(stdout)?.[1];
      if (baseUrl === undefined || token === undefined || inbox === undefined) return;
      clearTimeout(timer);
      resolve({
        child,
        output: () => ({ stdout, stderr }),
        exports: { OLCHAT_BASE_URL: baseUrl, OLCHAT_TOKEN: token },
        inboxUrl: inbox,
        stop(signal = 'SIGINT') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      check();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited (${code}) before printing its exports:\n${stdout}\n${stderr}`));
    });
  });
}
