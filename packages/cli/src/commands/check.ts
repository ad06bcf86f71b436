import { parseCommandArgs } from '../args.js';
import { CONNECTION_HELP, CONNECTION_HINTS, CONNECTION_OPTIONS, connect, ENVIRONMENT_HELP } from '../connection.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { describeFailure } from '../failure.js';
import type { CliIo, Output } from '../io.js';
import type { Command } from './command.js';

const HELP = `Usage: olchat-kit check [options]

Asks OLChat once (checkStatus, no retries) whether it accepts OLCHAT_TOKEN and whether the
WhatsApp line is connected. Sends nothing.

Options:
${CONNECTION_HELP}
  -h, --help        this help

${ENVIRONMENT_HELP}

Exit codes:
  0   the token is accepted and the line is connected
  1   the token is accepted but the line is not connected
  2   the token is rejected (HTTP 401, 403 or 404)
  3   OLChat unreachable, too slow, a 5xx or a 429: try again later
  64  usage: bad options, OLCHAT_TOKEN missing or malformed`;

async function check(args: readonly string[], io: CliIo, base: Output): Promise<ExitCode> {
  const values = parseCommandArgs(args, CONNECTION_OPTIONS, CONNECTION_HINTS);
  if (values.help) {
    base.out(HELP);
    return EXIT.OK;
  }
  const { client, shownUrl, token } = connect(io, values);
  const output = base.hiding(token);
  output.out(`OLChat  ${shownUrl}`);
  try {
    const { connected } = await client.checkStatus();
    output.out(`Token   ${output.paint('green', 'accepted')}`);
    if (connected === true) {
      output.out(`Line    ${output.paint('green', 'connected')}`);
      return EXIT.OK;
    }
    const state = connected === false ? 'disconnected' : 'unknown';
    output.out(`Line    ${output.paint('red', state)}`);
    output.err(
      connected === false
        ? 'olchat-kit check: the WhatsApp line is not connected: reconnect it in the OLChat connector settings'
        : "olchat-kit check: OLChat's answer did not say whether the line is connected",
    );
    return EXIT.REFUSED;
  } catch (error) {
    const failure = describeFailure(error, 'check');
    if (failure.exit === EXIT.TOKEN_REJECTED) output.out(`Token   ${output.paint('red', 'rejected')}`);
    output.err(`olchat-kit check: ${failure.message}`);
    if (failure.hint) output.err(failure.hint);
    return failure.exit;
  } finally {
    await client.close();
  }
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'is OLCHAT_TOKEN accepted, is the WhatsApp line connected? (sends nothing)',
  help: HELP,
  usesToken: true,
  run: check,
};
