import { normalizePhone } from '@olchat-kit/core';
import { parseCommandArgs, UsageError } from '../args.js';
import { CONNECTION_HELP, CONNECTION_HINTS, CONNECTION_OPTIONS, connect, ENVIRONMENT_HELP } from '../connection.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { describeFailure } from '../failure.js';
import type { CliIo, Output } from '../io.js';
import type { Command } from './command.js';

const HELP = `Usage: olchat-kit send --phone PHONE --text TEXT [options]
       olchat-kit send --phone PHONE --file URL [--caption TEXT] [options]

Sends one WhatsApp message through OLChat, in one attempt, and prints its message id.

Options:
  --phone PHONE     a Russian or Kazakh number as people type it: +7 912 345-67-89, 8 912…, 9123456789
  --text TEXT       the message text (a text starting with "-": --text=-…)
  --file URL        an http(s) URL of a file to send instead of a text
  --caption TEXT    the file's caption (with --file only)
  --imol            also show the message in the Bitrix24 open line (send_to_imol)
${CONNECTION_HELP}
  -h, --help        this help

${ENVIRONMENT_HELP}

Exit codes:
  0   OLChat accepted the message (its id is printed on stdout)
  1   OLChat refused the message
  2   the token is rejected (HTTP 401, 403 or 404)
  3   OLChat unreachable, too slow, a 5xx or a 429: nothing was sent, safe to repeat
  4   no answer after the request went out: the message may have been sent, do not repeat blindly
  64  usage: bad options, invalid phone or text, OLCHAT_TOKEN missing or malformed`;

const OPTIONS = {
  phone: { type: 'string' },
  text: { type: 'string' },
  file: { type: 'string' },
  caption: { type: 'string' },
  imol: { type: 'boolean' },
  ...CONNECTION_OPTIONS,
} as const;

async function send(args: readonly string[], io: CliIo, base: Output): Promise<ExitCode> {
  const values = parseCommandArgs(args, OPTIONS, CONNECTION_HINTS);
  if (values.help) {
    base.out(HELP);
    return EXIT.OK;
  }
  if (values.phone === undefined) throw new UsageError('--phone is required');
  if ((values.text === undefined) === (values.file === undefined)) {
    throw new UsageError('give either --text or --file (exactly one)');
  }
  if (values.caption !== undefined && values.file === undefined) throw new UsageError('--caption goes with --file');
  // The phone first: a typo is reported before the token is even looked at.
  let phone: string;
  try {
    phone = normalizePhone(values.phone);
  } catch (error) {
    const failure = describeFailure(error, 'send');
    base.err(`olchat-kit send: ${failure.message}`);
    return failure.exit;
  }

  const { client, token } = connect(io, values);
  const output = base.hiding(token);
  const sendToImol = values.imol === true;
  try {
    const result =
      values.file === undefined
        ? await client.sendText({ phone, text: values.text ?? '', sendToImol })
        : await client.sendFile({
            phone,
            url: values.file,
            sendToImol,
            ...(values.caption === undefined ? {} : { caption: values.caption }),
          });
    if (result.messageId === undefined) {
      output.err('olchat-kit send: OLChat accepted the message but gave no message id');
    } else {
      output.out(result.messageId);
    }
    return EXIT.OK;
  } catch (error) {
    const failure = describeFailure(error, 'send');
    output.err(`olchat-kit send: ${failure.message}`);
    if (failure.hint) output.err(failure.hint);
    return failure.exit;
  } finally {
    await client.close();
  }
}

export const sendCommand: Command = {
  name: 'send',
  summary: 'send one WhatsApp message (a text or a file) and print its id',
  help: HELP,
  usesToken: true,
  run: send,
};
