/**
 * The exit codes scripts and monitoring rely on; documented in the README and `--help`.
 * 64 is sysexits' EX_USAGE, 70 its EX_SOFTWARE.
 */
export const EXIT = {
  /** The command did what it was asked: the line is connected, the message was accepted. */
  OK: 0,
  /** OLChat answered but said no: the WhatsApp line is not connected, or it refused the message. */
  REFUSED: 1,
  /** `emulator`: could not start (the port is taken, the host cannot be used). */
  NOT_STARTED: 1,
  /** OLChat did not accept the token (HTTP 401, 403 or 404). */
  TOKEN_REJECTED: 2,
  /** No usable answer: OLChat unreachable, too slow, a 5xx or a 429. Nothing was sent; safe to repeat. */
  UNAVAILABLE: 3,
  /** `send` only: the request was written but no answer came, so the message may have been sent. */
  UNKNOWN_OUTCOME: 4,
  /** Bad arguments, a missing or malformed `OLCHAT_TOKEN`, an invalid phone or text. */
  USAGE: 64,
  /** A bug: an error the CLI does not know. */
  INTERNAL: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
