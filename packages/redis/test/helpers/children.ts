import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const SENDER = fileURLToPath(new URL('../fixtures/sender.mjs', import.meta.url));

/** Child processes run the built packages: fail early and clearly when a build is missing. */
export function assertBuilt(): void {
  for (const pkg of ['core', 'redis']) {
    if (!existsSync(root(`packages/${pkg}/dist/index.js`))) {
      throw new Error(
        `packages/${pkg}/dist is missing: build first (pnpm build, or npx tsc -p packages/${pkg}/tsconfig.build.json)`,
      );
    }
  }
}

export interface SenderConfig {
  redisPort: number;
  baseUrl: string;
  token: string;
  queueName: string;
  label: string;
  count: number;
  concurrency?: number;
  waitForGo?: boolean;
  queueOptions?: Record<string, unknown>;
  /** Passed to `new OlchatClient()`, e.g. `limits`. */
  clientOptions?: Record<string, unknown>;
}

interface Message {
  event: string;
  ids?: string[];
}

/** One sender process (test/fixtures/sender.mjs) and the JSON lines it prints. */
export class Sender {
  readonly child: ChildProcess;
  readonly #messages: Message[] = [];
  readonly #waiters = new Set<() => void>();
  #stderr = '';

  constructor(config: SenderConfig) {
    this.child = spawn(process.execPath, [SENDER], {
      env: { ...process.env, OLCHAT_FIXTURE: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.#messages.push(JSON.parse(line) as Message);
      } catch {
        return; // a stray log line
      }
      for (const wake of this.#waiters) wake();
    });
    this.child.stderr?.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.child.once('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** Resolves with the first message of `event`; rejects if the process exits first or after `timeoutMs`. */
  next(event: string, timeoutMs = 20_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#messages.find((m) => m.event === event);
        if (found) return done(() => resolve(found));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`sender exited before "${event}": ${this.#stderr.trim()}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no "${event}" within ${timeoutMs} ms: ${this.#stderr.trim()}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Asks the process to close its notifier and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send('close');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}
