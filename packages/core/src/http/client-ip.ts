import { isIP } from 'node:net';
import type { TrustProxy } from './types.js';

/**
 * The client's address: the socket's, or as far up `X-Forwarded-For` as `trust` allows. The chain
 * is read from the socket outwards, so a client cannot dodge a limit by forging the header.
 */
export function clientIp(socketIp: string | undefined, forwardedFor: string, trust: TrustProxy): string {
  const socket = normalize(socketIp ?? '');
  if (trust === false || trust === 0 || forwardedFor === '') return socket;
  const chain = [
    socket,
    ...forwardedFor
      .split(',')
      .map((entry) => normalize(entry.trim()))
      .reverse(),
  ];
  let client = 0;
  while (client < chain.length - 1 && trusts(trust, chain[client] as string, client)) {
    // Past a hop that is not an address, nothing more can be believed.
    if (isIP(chain[client + 1] as string) === 0) break;
    client++;
  }
  return chain[client] as string;
}

function trusts(trust: TrustProxy, address: string, hop: number): boolean {
  if (typeof trust === 'function') return trust(address, hop) === true;
  return trust === true || (typeof trust === 'number' && hop < trust);
}

function normalize(address: string): string {
  const plain = address.toLowerCase();
  return plain.startsWith('::ffff:') && isIP(plain.slice(7)) === 4 ? plain.slice(7) : plain;
}

/** The key an address is limited by: an IPv4 address, or an IPv6 address's /64 (one customer's network). */
export function ipLimitKey(address: string): string {
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return 'unknown';
  const [head = '', tail] = (address.split('%')[0] as string).split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const width = (part: string[]) => part.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const left = groups(head);
  const right = groups(tail);
  const full = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
