import { type EmulatorDelivery, type EmulatorOptions, startEmulator } from '@olchat-kit/testing';
import { integerOption, parseCommandArgs, UsageError } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliIo, Output } from '../io.js';
import type { Command } from './command.js';

/** Fixed, so the exports pasted into another terminal keep working after a restart. */
export const DEFAULT_EMULATOR_PORT = 8095;
export const DEFAULT_EMULATOR_TOKEN = 'test-token';
const DAY_MS = 24 * 60 * 60 * 1000;

const HELP = `Usage: olchat-kit emulator [options]

Runs the OLChat emulator of @olchat-kit/testing until Ctrl+C: the vendor's URLs and rate
limits, and an inbox page that shows every message as a phone would. It prints the two
lines to paste into the terminal where your app runs (OLCHAT_BASE_URL and OLCHAT_TOKEN).
The emulator's token is not a secret; nothing leaves your machine.

Options:
  --port N              the port (default ${DEFAULT_EMULATOR_PORT}; 0 picks a free one)
  --host H              the interface to listen on (default 127.0.0.1)
  --token T             the token it accepts (default ${DEFAULT_EMULATOR_TOKEN})
  --delivered-after MS  messages show two grey ticks (delivered) this long after acceptance
  --read-after MS       messages show two blue ticks (read) this long after acceptance
  --disconnected        start with the WhatsApp line disconnected (checkStatus says so)
  -h, --help            this help

Exit codes:
  0   stopped by Ctrl+C (SIGINT) or SIGTERM
  1   could not start: the port is taken, or the host cannot be used
  64  usage: bad options`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  'delivered-after': { type: 'string' },
  'read-after': { type: 'string' },
  disconnected: { type: 'boolean' },
} as const;

async function emulator(args: readonly string[], io: CliIo, output: Output): Promise<ExitCode> {
  const values = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    output.out(HELP);
    return EXIT.OK;
  }
  const options = emulatorOptions(values);
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emu = await startEmulator(options);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new UsageError(error.message);
    output.err(`olchat-kit emulator: could not start: ${startFailure(error, options)}`);
    return EXIT.NOT_STARTED;
  }
  // Synchronously after the port opened: no signal can reach the default handler (exit 130) in between.
  const stopped = io.waitForStop();

  output.out(`OLChat emulator is running (line ${options.connected ? 'connected' : 'disconnected'}).`);
  output.out(`  Inbox: ${emu.url}/`);
  output.out(`  API:   ${emu.baseUrl}`);
  output.out('');
  output.out('Paste into the terminal where your app runs:');
  output.out('');
  output.out(output.paint('bold', `export OLCHAT_BASE_URL=${shellWord(emu.baseUrl)}`));
  output.out(output.paint('bold', `export OLCHAT_TOKEN=${shellWord(emu.token)}`));
  output.out('');
  output.out('Ctrl+C stops it.');

  const signal = await stopped;
  await emu.close();
  output.out(`Stopped (${signal}).`);
  return EXIT.OK;
}

function emulatorOptions(values: {
  port?: string | undefined;
  host?: string | undefined;
  token?: string | undefined;
  'delivered-after'?: string | undefined;
  'read-after'?: string | undefined;
  disconnected?: boolean | undefined;
}): EmulatorOptions & { port: number; connected: boolean } {
  const port = integerOption('port', values.port, { min: 0, max: 65_535 }) ?? DEFAULT_EMULATOR_PORT;
  const token = values.token ?? DEFAULT_EMULATOR_TOKEN;
  // What the client accepts: a token it would refuse is no use to anyone.
  if (!/^[^\s/?#]+$/.test(token)) throw new UsageError('--token must be non-empty, without spaces, "/", "?" or "#"');
  const host = values.host?.trim();
  if (host === '') throw new UsageError('--host must not be empty');
  const delivery: EmulatorDelivery = {};
  const deliveredAfterMs = integerOption('delivered-after', values['delivered-after'], { min: 0, max: DAY_MS });
  const readAfterMs = integerOption('read-after', values['read-after'], { min: 0, max: DAY_MS });
  if (deliveredAfterMs !== undefined) delivery.deliveredAfterMs = deliveredAfterMs;
  if (readAfterMs !== undefined) delivery.readAfterMs = readAfterMs;
  if (deliveredAfterMs !== undefined && readAfterMs !== undefined && readAfterMs < deliveredAfterMs) {
    throw new UsageError('--read-after must not be less than --delivered-after');
  }
  return {
    port,
    tokens: [token],
    connected: values.disconnected !== true,
    delivery,
    ...(host === undefined ? {} : { host }),
  };
}

function startFailure(error: unknown, options: { port: number; host?: string }): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `port ${options.port} is in use: pass --port N, or --port 0 for a free one`;
  if (code === 'EACCES') return `no permission to listen on port ${options.port}: use a port above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot listen on host ${options.host ?? '127.0.0.1'} (${code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** As the shell reads it back: quoted only when it has to be (an IPv6 URL's brackets, a `$`). */
export function shellWord(value: string): string {
  return /^[\w.:@%+,=/-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'run a local OLChat emulator with an inbox page; prints what to export',
  help: HELP,
  usesToken: false,
  run: emulator,
};
