import { PRIORITIES, type Priority } from '../job.js';
import { ASSETS, type Asset, assetAt } from './assets.js';

/** What an operator may do to a lane: hold it, release it, or cancel its backlog (after confirming). */
export type LaneAction = 'pause' | 'resume' | 'clear';
const LANE_ACTIONS: readonly LaneAction[] = ['pause', 'resume', 'clear'];

export type DashboardRoute =
  | { name: 'overview' }
  | { name: 'job'; id: string }
  | { name: 'search' }
  | { name: 'action'; id: string; action: 'cancel' | 'retry' }
  | { name: 'lane'; lane: Priority; action: LaneAction }
  /** Every pause and the line's flag lifted (`notifier.resume()`). */
  | { name: 'resumeAll' }
  | { name: 'asset'; asset: Asset };

/** The paths below the mount point, as a router registers them. */
export const DASHBOARD_ROUTES: readonly string[] = [
  '/',
  '/search',
  '/jobs/:id',
  '/jobs/:id/cancel',
  '/jobs/:id/retry',
  '/lanes/:lane/pause',
  '/lanes/:lane/resume',
  '/lanes/:lane/clear',
  '/lanes/resume',
  ...ASSETS.map((asset) => asset.path),
];

const MAX_ID_LENGTH = 200;

/** Which page a path below the mount point asks for (a trailing slash is forgiven); undefined: not ours. */
export function matchDashboardRoute(path: string): DashboardRoute | undefined {
  const bare = path.split('?')[0] ?? '';
  const trimmed = bare.replace(/\/+$/, '');
  if (trimmed === '') return { name: 'overview' };
  const asset = assetAt(trimmed);
  if (asset) return { name: 'asset', asset };
  if (trimmed === '/search') return { name: 'search' };
  const parts = trimmed.split('/');
  if (parts[0] === '' && parts[1] === 'lanes') return laneRoute(parts);
  if (parts[0] !== '' || parts[1] !== 'jobs' || parts.length < 3 || parts.length > 4) return undefined;
  const id = decodeSegment(parts[2] as string);
  if (id === undefined) return undefined;
  if (parts.length === 3) return { name: 'job', id };
  const action = parts[3];
  return action === 'cancel' || action === 'retry' ? { name: 'action', id, action } : undefined;
}

function laneRoute(parts: readonly string[]): DashboardRoute | undefined {
  if (parts.length === 3) return parts[2] === 'resume' ? { name: 'resumeAll' } : undefined;
  const lane = PRIORITIES.find((name) => name === parts[2]);
  const action = LANE_ACTIONS.find((name) => name === parts[3]);
  return parts.length === 4 && lane && action ? { name: 'lane', lane, action } : undefined;
}

function decodeSegment(segment: string): string | undefined {
  if (segment === '' || segment.length > MAX_ID_LENGTH * 3) return undefined;
  try {
    const id = decodeURIComponent(segment);
    return id.length <= MAX_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}
