/** Where a command writes; `process.stdout` and `process.stderr` fit, and so does a test's buffer. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Everything a command touches outside itself, so `run()` can be driven in-process as well. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the signal's name once the process is asked to stop; `emulator` runs until then. */
  waitForStop(): Promise<string>;
}

/** The real process: its streams, its environment, SIGINT and SIGTERM. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    waitForStop: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
  };
}

type Colour = 'green' | 'red' | 'yellow' | 'bold';
const ANSI: Record<Colour, [string, string]> = {
  green: ['\u001b[32m', '\u001b[39m'],
  red: ['\u001b[31m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  bold: ['\u001b[1m', '\u001b[22m'],
};

/**
 * Line-oriented output. Every line is scrubbed of the given secrets before it is written, so a
 * message built from a vendor's answer or a parse error cannot leak the token even if something
 * upstream forgot to redact it.
 */
export class Output {
  readonly #io: CliIo;
  readonly #secrets: readonly string[];

  constructor(io: CliIo, secrets: readonly (string | undefined)[] = []) {
    this.#io = io;
    this.#secrets = secrets.filter((s): s is string => typeof s === 'string' && s !== '');
  }

  /** A copy that also hides `secret` (once the token is known). */
  hiding(secret: string): Output {
    return new Output(this.#io, [...this.#secrets, secret]);
  }

  out(line = ''): void {
    this.#io.stdout.write(`${this.#scrub(line)}\n`);
  }

  err(line = ''): void {
    this.#io.stderr.write(`${this.#scrub(line)}\n`);
  }

  /** Colours only a terminal; pipes, files and `NO_COLOR` get plain text. */
  paint(colour: Colour, text: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
    const env = this.#io.env;
    const tty = this.#io[stream].isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
    if (!tty) return text;
    const [open, close] = ANSI[colour];
    return `${open}${text}${close}`;
  }

  #scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      out = out.split(secret).join('***');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join('***');
    }
    return out;
  }
}
