import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** Append-only file on, fsync'd on every write: what a restart must not lose. Default false. */
  appendonly?: boolean;
  requirepass?: string;
}

/**
 * A real `redis-server` (the Debian package) on a free 127.0.0.1 port with its own temp dir, for
 * one test file. `stop()` and `start()` again keep the port and the dir, so a restart with the
 * append-only file on finds its data again.
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #options: RedisServerOptions;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'olchat-redis-'));
    const server = new RedisServer(await freePort(), dir, options);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get connection(): { host: string; port: number; password?: string } {
    return {
      host: '127.0.0.1',
      port: this.port,
      ...(this.#options.requirepass ? { password: this.#options.requirepass } : {}),
    };
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  async start(): Promise<void> {
    if (this.#process) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.#options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    if (this.#options.requirepass) args.push('--requirepass', this.#options.requirepass);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    // Without redis-server on PATH, spawn fails: say which program and how to get it, not just ENOENT.
    let spawnError: Error | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      if (this.#process === child) this.#process = undefined;
    });
    // Ready once it accepts connections; a bounded wait, failing loudly with its own output.
    const until = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (spawnError) {
        throw new Error(
          `redis-server could not be started (${spawnError.message}): install it (apt-get install redis-server; pnpm test does this as root on Debian/Ubuntu)`,
        );
      }
      if (child.exitCode !== null || Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}: ${output.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** `crash`: SIGKILL, no chance to write anything more (with appendfsync always, nothing acknowledged is lost). */
  async stop({ crash = false }: { crash?: boolean } = {}): Promise<void> {
    const child = this.#process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(crash ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    this.#process = undefined;
  }

  /** Stops the server and removes its dir. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
