import { isCi } from '../../scripts/system-deps.mjs';

/**
 * For a test that cannot run on every machine: skips it here when `canRun` is false, saying why,
 * but under CI (CI=true) fails it instead. CI must fail loudly, never pass by skipping.
 */
export function skipUnless(
  context: { skip: (note?: string) => void },
  canRun: unknown,
  reason: string,
  env: Record<string, string | undefined> = process.env,
): void {
  if (canRun) return;
  if (isCi(env)) throw new Error(`CI does not skip this test: ${reason}`);
  context.skip(reason);
}
