import type { ExitCode } from '../exit-codes.js';
import type { CliIo, Output } from '../io.js';

export interface Command {
  name: string;
  /** One line for the command list in `olchat-kit --help`. */
  summary: string;
  /** The whole `olchat-kit <name> --help` text. */
  help: string;
  /** Whether the command reads OLCHAT_TOKEN, so its every output line is scrubbed of it. */
  usesToken: boolean;
  /** Throws `UsageError` for bad arguments; `run()` turns that into exit 64. */
  run(args: readonly string[], io: CliIo, output: Output): Promise<ExitCode>;
}
