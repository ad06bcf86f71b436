export { UsageError } from './args.js';
export type { Command } from './commands/command.js';
export { DEFAULT_EMULATOR_PORT, DEFAULT_EMULATOR_TOKEN } from './commands/emulator.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export { type CliIo, type OutputStream, processIo } from './io.js';
export { run } from './run.js';
