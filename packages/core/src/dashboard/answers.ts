import type { HandlerResponse } from '../http/types.js';
import type { Asset } from './assets.js';
import type { SafeHtml } from './html.js';

/**
 * Nothing but the dashboard's own stylesheet and icon may load, no script at all, forms post only
 * here, and no other site may frame the page.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * `same-origin` rather than `no-referrer`: under `no-referrer` a browser sends `Origin: null` with a
 * form POST, and the origin check could not tell the dashboard's own forms from a sandboxed page.
 * The page's address still never leaves the site.
 */
export const REFERRER_POLICY = 'same-origin';

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': REFERRER_POLICY,
  'x-frame-options': 'DENY',
};

export function htmlAnswer(status: number, page: SafeHtml, headers: Record<string, string> = {}): HandlerResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
      ...headers,
    },
    body: page.toString(),
  };
}

/** After an action: back to a page of the dashboard (POST, redirect, GET), so a reload repeats nothing. */
export function seeOther(location: string): HandlerResponse {
  return {
    status: 303,
    headers: {
      location,
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
    },
    body: `See Other: ${location}`,
  };
}

export function assetAnswer(asset: Asset, versioned: boolean): HandlerResponse {
  return {
    status: 200,
    headers: {
      'content-type': asset.type,
      // A versioned link never changes its content; an unversioned one may after an upgrade.
      'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...SECURITY_HEADERS,
    },
    body: asset.body,
  };
}
