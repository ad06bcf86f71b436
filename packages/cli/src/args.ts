import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Wrong use of the command line: reported with a pointer to `--help`, exit 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The parsed values: a string or a boolean per option (none of ours is `multiple`), all optional. */
export type OptionValues<T extends OptionsConfig> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string;
} & { help?: boolean };

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionsConfig;

/**
 * `parseArgs` in strict mode, with `--help` added and its errors rewritten: an unknown option is
 * named without its value and a stray argument is not echoed at all, because people paste tokens
 * into the wrong place and the CLI must not print them back.
 */
export function parseCommandArgs<T extends OptionsConfig>(
  args: readonly string[],
  options: T,
  hints: Readonly<Record<string, string>> = {},
): OptionValues<T> {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, ...HELP_OPTION },
      strict: true,
      allowPositionals: false,
    }).values as OptionValues<T>;
  } catch (error) {
    const message = describeParseError(error);
    const option = /^unknown option (\S+)$/.exec(message)?.[1];
    const hint = option === undefined ? undefined : hints[option];
    throw new UsageError(hint === undefined ? message : `${message}: ${hint}`);
  }
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'(-[^'=]*)/.exec(message)?.[1];
    return option ? `unknown option ${option}` : 'unknown option';
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return 'unexpected argument: this command takes only --options (quote values that contain spaces)';
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // Node's own wording names only the option ("argument missing", "does not take an argument").
    return message.split('\n')[0]?.replace(/^Option/, 'option') ?? 'invalid option value';
  }
  return 'invalid arguments';
}

/** A whole number of milliseconds or a port, within bounds; `undefined` stays undefined. */
export function integerOption(
  name: string,
  value: string | undefined,
  { min, max }: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  }
  return number;
}
