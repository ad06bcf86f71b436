// One shop process for bench/redis.mjs: a notifier on the shared Redis queue and limiter.
// Config: env OLCHAT_BENCH (JSON). stdout: 'ready', then 'queued' once its sends are all accepted.
// stdin: 'go' (queue the sends), 'close' (close and exit).
import { createInterface } from 'node:readline';
import { createNotifier, OlchatClient } from '@olchat-kit/core';
import { redisLimiterStore, redisQueue } from '@olchat-kit/redis';

const { redisPort, baseUrl, token, queueName, label, count } = JSON.parse(process.env.OLCHAT_BENCH ?? '{}');
const connection = { host: '127.0.0.1', port: redisPort };
const limiterStore = redisLimiterStore({ connection });
const client = new OlchatClient({ token, baseUrl, limiterStore });
const notifier = createNotifier({
  client,
  queue: redisQueue({ connection, name: queueName }),
  secret: 'olchat-kit-bench-secret-0123456789',
});

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'go') {
    for (let i = 0; i < count; i++) await notifier.send({ phone: '79123456789', text: `${label} message ${i + 1}` });
    console.log('queued');
  }
  if (line === 'close') {
    await notifier.close({ timeoutMs: 10_000 });
    await client.close();
    await limiterStore.close();
    process.exit(0);
  }
});
console.log('ready');
