/**
 * @olchat-kit/core/limiter: the store a limiter keeps its slots in. The in-memory one is the
 * default; @olchat-kit/redis implements the same contract to share slots across processes.
 */

export { defaultLimiterStore, MemoryLimiterStore } from './memory-store.js';
export type { LimiterStore, SlotLease, SlotWait } from './store.js';
