// A throwaway redis-server for the Redis benches: a free 127.0.0.1 port, its own temp dir, no
// persistence. Needs redis-server on PATH (Debian: apt-get install redis-server).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() || true));
    socket.once('error', () => resolve(false));
  });

export async function startRedis() {
  const dir = await mkdtemp(join(tmpdir(), 'olchat-bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  for (let i = 0; !(await canConnect(port)); i++) {
    if (i > 200 || child.exitCode !== null) throw new Error('redis-server did not start (is it installed?)');
    await sleep(50);
  }
  return {
    port,
    connection: { host: '127.0.0.1', port },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
