import { OlchatClient, ValidationError, VENDOR_BASE_URL } from '@olchat-kit/core';
import { integerOption, UsageError } from './args.js';
import type { CliIo } from './io.js';

/** The options `check` and `send` share to reach OLChat. */
export const CONNECTION_OPTIONS = {
  'base-url': { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** For `parseCommandArgs`: people reach for a --token flag first. */
export const CONNECTION_HINTS = {
  '--token': 'the token is read from OLCHAT_TOKEN only, so it stays out of shell history and the process list',
};

export const CONNECTION_HELP = `  --base-url URL    the API base URL (default: OLCHAT_BASE_URL, else OLChat's own)
  --timeout MS      how long to wait for OLChat's answer (default 10000)`;

export const ENVIRONMENT_HELP = `Environment:
  OLCHAT_TOKEN      the webhook token from OLChat's connector settings (required; never printed)
  OLCHAT_BASE_URL   the API base URL, e.g. the one \`olchat-kit emulator\` prints
                    (default: ${VENDOR_BASE_URL})`;

export interface Connection {
  client: OlchatClient;
  /** The base URL in use, without any user:password, for the report. */
  shownUrl: string;
  token: string;
}

/**
 * A client for exactly one attempt: a CLI answers now, and a script decides whether to repeat.
 * The token comes from the environment only, never from an argument, so it stays out of shell
 * history and `ps`.
 */
export function connect(
  io: CliIo,
  values: { 'base-url'?: string | undefined; timeout?: string | undefined },
): Connection {
  const token = io.env.OLCHAT_TOKEN?.trim() ?? '';
  if (token === '') {
    throw new UsageError(
      'OLCHAT_TOKEN is not set: export the webhook token from OLChat\'s connector settings, or run "olchat-kit emulator" and paste the two lines it prints',
    );
  }
  const baseUrl = values['base-url'] ?? (io.env.OLCHAT_BASE_URL?.trim() || VENDOR_BASE_URL);
  const timeoutMs = integerOption('timeout', values.timeout, { min: 1, max: 600_000 }) ?? 10_000;
  try {
    const client = new OlchatClient({ token, baseUrl, timeoutMs, retry: { retries: 0 } });
    return { client, shownUrl: withoutCredentials(baseUrl), token };
  } catch (error) {
    if (error instanceof ValidationError) {
      const field = error.issues[0]?.path;
      if (field === 'token')
        throw new UsageError('OLCHAT_TOKEN is malformed: it must not contain spaces, "/", "?" or "#"');
      if (field === 'baseUrl') {
        const source = values['base-url'] === undefined ? 'OLCHAT_BASE_URL' : '--base-url';
        throw new UsageError(`${source} must be an http(s) URL`);
      }
      throw new UsageError(error.message);
    }
    throw error;
  }
}

function withoutCredentials(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
}
