import { UsageError } from './args.js';
import { checkCommand } from './commands/check.js';
import type { Command } from './commands/command.js';
import { emulatorCommand } from './commands/emulator.js';
import { sendCommand } from './commands/send.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { type CliIo, Output, processIo } from './io.js';
import { cliVersion } from './version.js';

const COMMANDS: readonly Command[] = [emulatorCommand, checkCommand, sendCommand];

const HELP = `olchat-kit: WhatsApp through OLChat (Bitrix24) from the command line

Usage: olchat-kit <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Options:
  -h, --help     this help; olchat-kit <command> --help for a command's
  -v, --version  the version

check and send read OLCHAT_TOKEN (never printed) and OLCHAT_BASE_URL.

Exit codes:
  0   done: the line is connected, the message was accepted, the emulator stopped
  1   OLChat said no: the line is disconnected, the message was refused (emulator: could not start)
  2   OLChat rejected the token (HTTP 401, 403 or 404)
  3   OLChat unreachable, too slow, a 5xx or a 429: nothing was sent, try again later
  4   send: no answer after the request went out; the message may have been sent
  64  usage: bad arguments, OLCHAT_TOKEN missing or malformed, an invalid phone or text`;

/**
 * Runs the CLI on `argv` (without node and the script) and resolves with the exit code; it never
 * throws and never calls `process.exit`, so the bin and tests alike decide what happens next.
 */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const plain = new Output(io);
  const [first, ...rest] = argv;
  if (first === undefined) {
    plain.err(HELP);
    return EXIT.USAGE;
  }
  if (first === '-h' || first === '--help') {
    plain.out(HELP);
    return EXIT.OK;
  }
  if (first === '-v' || first === '--version') {
    plain.out(cliVersion());
    return EXIT.OK;
  }
  if (first === 'help') return help(rest[0], plain);

  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    // A stray argument may be a pasted token: name it only when it looks like a mistyped command.
    const what = first.startsWith('-') ? 'unknown option' : 'unknown command';
    const shown = /^-{0,2}[a-z][a-z-]{0,19}$/.test(first) ? ` ${first}` : '';
    plain.err(`olchat-kit: ${what}${shown}. Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    plain.err("Run 'olchat-kit --help' for usage.");
    return EXIT.USAGE;
  }

  const output = command.usesToken ? new Output(io, [io.env.OLCHAT_TOKEN, io.env.OLCHAT_TOKEN?.trim()]) : plain;
  try {
    return await command.run(rest, io, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`olchat-kit ${command.name}: ${error.message}`);
      output.err(`Run 'olchat-kit ${command.name} --help' for usage.`);
      return EXIT.USAGE;
    }
    output.err(
      `olchat-kit ${command.name}: unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return EXIT.INTERNAL;
  }
}

function help(name: string | undefined, output: Output): ExitCode {
  if (name === undefined) {
    output.out(HELP);
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    output.err(`olchat-kit help: no such command. Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return EXIT.USAGE;
  }
  output.out(command.help);
  return EXIT.OK;
}
