// Types of system-deps.mjs, for the TypeScript tests that import it.
type Env = Record<string, string | undefined>;

export interface SystemPackage {
  /** The Debian/Ubuntu package name, also the name used everywhere else. */
  apt: 'redis-server' | 'chromium';
  brew: string;
  /** What cannot run without it, as a sentence fragment. */
  tests: string;
  /** Its path on this machine, or undefined. */
  find(env?: Env): string | undefined;
}

export interface SetupFacts {
  missing: SystemPackage[];
  isRoot: boolean;
  hasAptGet: boolean;
  platform: string;
  ci: boolean;
  aptTried?: boolean;
}

export type SetupPlan =
  | { action: 'none' }
  | { action: 'install'; packages: string[]; notice: string }
  | { action: 'advise'; message: string; fail: boolean };

export const SYSTEM_PACKAGES: SystemPackage[];
export function findOnPath(command: string, env?: Env): string | undefined;
export function findChromium(env?: Env): string | undefined;
export function missingSystemPackages(env?: Env): SystemPackage[];
export function planTestSetup(facts: SetupFacts): SetupPlan;
export function installCommand(
  missing: SystemPackage[],
  where: { isRoot?: boolean; hasAptGet: boolean; platform: string },
): string;
export function missingReason(apt: SystemPackage['apt'], env?: Env): string | undefined;
export function skipReason(apt: SystemPackage['apt'], env?: Env): string | undefined;
export function isCi(env?: Env): boolean;
