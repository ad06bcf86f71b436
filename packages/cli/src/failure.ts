import { OlchatError, ValidationError } from '@olchat-kit/core';
import { isTokenRejected } from '@olchat-kit/core/queue';
import { EXIT, type ExitCode } from './exit-codes.js';

export interface Failure {
  exit: ExitCode;
  /** One line for stderr, already free of the token (the client's messages are redacted). */
  message: string;
  /** What the user can do about it, when there is something. */
  hint?: string;
}

/** What a failed call means for the exit code, from the error's stable `code`. */
export function describeFailure(error: unknown, command: 'check' | 'send'): Failure {
  if (error instanceof ValidationError) {
    const issue = error.issues[0];
    const detail = issue && !error.message.includes(issue.message) ? ` (${issue.message})` : '';
    return { exit: EXIT.USAGE, message: `${error.message}${detail}; nothing was sent` };
  }
  if (!(error instanceof OlchatError)) {
    return {
      exit: EXIT.INTERNAL,
      message: `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (isTokenRejected(error)) {
    return {
      exit: EXIT.TOKEN_REJECTED,
      message: error.message,
      hint: 'OLChat does not accept OLCHAT_TOKEN: copy the webhook token again from the connector settings (and check OLCHAT_BASE_URL)',
    };
  }
  switch (error.code) {
    case 'NETWORK':
    case 'TIMEOUT':
      return { exit: EXIT.UNAVAILABLE, message: error.message, hint: 'check OLCHAT_BASE_URL and the network' };
    case 'RATE_LIMITED':
      return {
        exit: EXIT.UNAVAILABLE,
        message: `${error.message}; nothing was sent`,
        hint: "another sender is using this token's limit right now: try again in a few seconds",
      };
    case 'AMBIGUOUS':
      return command === 'send'
        ? {
            exit: EXIT.UNKNOWN_OUTCOME,
            message: error.message,
            hint: 'look in the chat before sending again, or the customer may get it twice',
          }
        : { exit: EXIT.UNAVAILABLE, message: error.message };
    case 'HTTP':
      return (error.status ?? 0) >= 500
        ? { exit: EXIT.UNAVAILABLE, message: error.message, hint: 'OLChat is having trouble: try again later' }
        : { exit: EXIT.REFUSED, message: error.message };
    case 'VENDOR_ERROR':
      return { exit: EXIT.REFUSED, message: error.message };
    default:
      return { exit: EXIT.INTERNAL, message: error.message };
  }
}
