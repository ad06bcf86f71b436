import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const SENDER = fileURLToPath(new URL('../fixtures/sender.mjs', import.meta.url));
const QUEUE_PROCESS = fileURLToPath(new URL('../fixtures/queue-process.mjs', import.meta.url));
const PEOPLE_PROCESS = fileURLToPath(new URL('../fixtures/people-process.mjs', import.meta.url));

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

export interface Message {
  event: string;
  ref?: number;
  ids?: string[];
  [field: string]: unknown;
}

/** A child process of a fixture script, and the JSON lines it prints. */
class Child {
  readonly child: ChildProcess;
  readonly #messages: Message[] = [];
  readonly #waiters = new Set<() => void>();
  #stderr = '';

  constructor(script: string, config: unknown) {
    this.child = spawn(process.execPath, [script], {
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

  /** Everything it printed so far. */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  /**
   * Resolves with the first message of `event` (that `match` accepts); rejects if the process
   * exits first or after `timeoutMs`.
   */
  next(event: string, timeoutMs = 20_000, match: (message: Message) => boolean = () => true): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#messages.find((m) => m.event === event && match(m));
        if (found) return done(() => resolve(found));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`child exited before "${event}": ${this.#stderr.trim()}`)));
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

  /** Asks the process to close and exit; kills it if it has not within `timeoutMs`. */
  async stop(timeoutMs = 15_000, closeLine = 'close'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send(closeLine);
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

/** One sender process (test/fixtures/sender.mjs): a notifier on the shared queue and limiter. */
export class Sender extends Child {
  constructor(config: SenderConfig) {
    super(SENDER, config);
  }
}

export interface QueueProcessConfig {
  redisPort: number;
  queueName: string;
  queueOptions?: Record<string, unknown>;
}

/** One queue process (test/fixtures/queue-process.mjs): the JobQueue interface, no notifier. */
export class QueueProcess extends Child {
  #ref = 0;

  constructor(config: QueueProcessConfig) {
    super(QUEUE_PROCESS, config);
  }

  /** Sends a command and resolves with its answer (`reply`: the event that answers it). */
  async request(op: string, fields: Record<string, unknown>, reply: string): Promise<Message> {
    const ref = ++this.#ref;
    this.send(JSON.stringify({ op, ref, ...fields }));
    const answer = await Promise.race([
      this.next(reply, 20_000, (m) => m.ref === ref),
      this.next('error', 20_000, (m) => m.ref === ref).then((m) => {
        throw new Error(`${op} failed in the child: ${String(m.message)}`);
      }),
    ]);
    return answer;
  }

  /** Sends a command without waiting for an answer (e.g. at the same moment as another process). */
  fire(op: string, fields: Record<string, unknown>): number {
    const ref = ++this.#ref;
    this.send(JSON.stringify({ op, ref, ...fields }));
    return ref;
  }

  override stop(timeoutMs = 15_000): Promise<void> {
    return super.stop(timeoutMs, JSON.stringify({ op: 'close' }));
  }
}

export interface PeopleProcessConfig {
  redisPort: number;
  queueName: string;
  secret: string;
  suppress?: [phone: string, options: Record<string, unknown>][];
  contacts?: string[];
  replies?: [phone: string, text: string][];
}

/** One process (test/fixtures/people-process.mjs) that opts out, adds contacts and records replies, then exits. */
export class PeopleProcess extends Child {
  constructor(config: PeopleProcessConfig) {
    super(PEOPLE_PROCESS, config);
  }
}
