export type { RedisConnection } from './connection.js';
export { RedisUnavailableError } from './errors.js';
export { RedisLimiterStore, type RedisLimiterStoreOptions, redisLimiterStore } from './limiter-store.js';
export { RedisQueue, type RedisQueueOptions, redisQueue } from './queue/redis-queue.js';
export { RedisWebhookOutbox, type RedisWebhookOutboxOptions, redisWebhookOutbox } from './webhook-outbox.js';
