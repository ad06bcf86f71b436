/** The handler's routes, in the path syntax Express and @koa/router share. */
export const ROUTE_PATHS = [
  '/forms/:ruleId',
  '/messages',
  '/messages/cancel',
  '/messages/:id',
  '/messages/:id/retry',
  '/lanes',
  '/lanes/pause',
  '/lanes/resume',
  '/lanes/:lane/pause',
  '/lanes/:lane/resume',
  '/suppressions/:phone',
  '/people/:phone',
  '/replies',
  '/health',
] as const;

export type LaneAction = 'pause' | 'resume';

export type Route =
  | { name: 'form'; ruleId: string }
  | { name: 'messages' }
  | { name: 'cancelMany' }
  | { name: 'message'; id: string }
  | { name: 'retry'; id: string }
  | { name: 'lanes' }
  /** No lane: every lane (and, for resume, the line's flag). */
  | { name: 'lane'; lane: string | undefined; action: LaneAction }
  | { name: 'suppression'; phone: string }
  | { name: 'person'; phone: string }
  | { name: 'replies' }
  | { name: 'health' };

export const ROUTE_METHODS: Record<Route['name'], readonly string[]> = {
  form: ['POST'],
  messages: ['POST'],
  cancelMany: ['POST'],
  message: ['GET', 'HEAD', 'DELETE'],
  retry: ['POST'],
  lanes: ['GET', 'HEAD'],
  lane: ['POST'],
  suppression: ['GET', 'HEAD', 'PUT', 'DELETE'],
  person: ['DELETE'],
  replies: ['POST'],
  health: ['GET', 'HEAD'],
};

const WITH_QUERY_TRIGGER = ['GET', 'POST'] as const;

/** The methods a route answers: with the query trigger on, the form and reply routes answer GET as well. */
export function routeMethods(name: Route['name'], queryTrigger: boolean): readonly string[] {
  return (name === 'form' || name === 'replies') && queryTrigger ? WITH_QUERY_TRIGGER : ROUTE_METHODS[name];
}

/** The route a path is for, below `prefix` (matched without regard to case, as the routers do). */
export function matchRoute(rawPath: string, prefix: string): Route | undefined {
  const mark = rawPath.indexOf('?');
  let path = mark === -1 ? rawPath : rawPath.slice(0, mark);
  if (prefix !== '') {
    if (path.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return undefined;
    path = path.slice(prefix.length);
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const [empty, first, second, third, extra] = path.split('/');
  if (empty !== '' || extra !== undefined) return undefined;
  switch (first?.toLowerCase()) {
    case 'forms':
      return second === undefined || third !== undefined ? undefined : { name: 'form', ruleId: decode(second) };
    case 'messages':
      if (second === undefined) return { name: 'messages' };
      // A job id is 16 characters or a UUID: `cancel` is never one.
      if (third === undefined)
        return second === 'cancel' ? { name: 'cancelMany' } : { name: 'message', id: decode(second) };
      return third.toLowerCase() === 'retry' ? { name: 'retry', id: decode(second) } : undefined;
    case 'lanes': {
      if (second === undefined) return { name: 'lanes' };
      const action = (third ?? second).toLowerCase();
      if (action !== 'pause' && action !== 'resume') return undefined;
      return { name: 'lane', lane: third === undefined ? undefined : decode(second), action };
    }
    case 'suppressions':
      return second === undefined || third !== undefined ? undefined : { name: 'suppression', phone: decode(second) };
    case 'people':
      return second === undefined || third !== undefined ? undefined : { name: 'person', phone: decode(second) };
    case 'replies':
      return second === undefined ? { name: 'replies' } : undefined;
    case 'health':
      return second === undefined ? { name: 'health' } : undefined;
    default:
      return undefined;
  }
}

function decode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return ''; // never a rule or job id
  }
}
