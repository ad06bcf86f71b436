import { afterAll, beforeAll, describe, it } from 'vitest';
import { OUTAGE_MS, outageScenario } from '../../core/test/outage/scenario.js';
import { redisLimiterStore, redisQueue } from '../src/index.js';
import { RedisServer } from './helpers/redis-server.js';

// The memory queue's outage scenario (packages/core/test/outage) on the durable queue and the shared
// limiter: the jobs wait in Redis while the vendor is away.
let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start({ appendonly: true });
});
afterAll(async () => {
  await redis?.destroy();
});

describe.concurrent('a vendor outage of 60 s on the Redis queue', () => {
  for (const kind of ['refused', '503'] as const) {
    it(
      `${kind === 'refused' ? 'refused connections' : '503 answers'}: all 30 arrive once after it returns, none over the limit`,
      async () => {
        const limiterStore = redisLimiterStore({ connection: redis.connection });
        try {
          await outageScenario(kind, {
            queue: redisQueue({ connection: redis.connection, name: `outage-${kind}` }),
            limiterStore,
          });
        } finally {
          await limiterStore.close();
        }
      },
      OUTAGE_MS + 120_000,
    );
  }
});
