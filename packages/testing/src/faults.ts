import type { FailMode } from './types.js';

export const FAIL_MODES: readonly FailMode[] = ['429', '500', '502', '503', 'timeout', 'drop'];

/** Pending injected failures, consumed one per request in arrival order. */
export class FaultQueue {
  private readonly pending: { mode: FailMode; remaining: number }[] = [];

  add(mode: FailMode, count = 1): void {
    if (!FAIL_MODES.includes(mode)) {
      throw new TypeError(`fail(): mode must be one of ${FAIL_MODES.join(', ')}`);
    }
    if (!(Number.isInteger(count) || count === Number.POSITIVE_INFINITY) || count < 0) {
      throw new RangeError('fail(): count must be a non-negative integer or Infinity');
    }
    if (count === 0) return;
    const last = this.pending.at(-1);
    if (last && last.mode === mode) last.remaining += count;
    else this.pending.push({ mode, remaining: count });
  }

  /** The mode for the next request, or undefined when none is pending. */
  take(): FailMode | undefined {
    const head = this.pending[0];
    if (!head) return undefined;
    head.remaining--;
    if (head.remaining <= 0) this.pending.shift();
    return head.mode;
  }

  clear(): void {
    this.pending.length = 0;
  }
}
