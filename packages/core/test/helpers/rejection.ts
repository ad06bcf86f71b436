import { expect } from 'vitest';
import { OlchatError, ValidationError } from '../../src/index.js';

/** Awaits a promise that must reject with an `OlchatError`, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<OlchatError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OlchatError);
    return error as OlchatError;
  }
  throw new Error('expected a rejection');
}

/** Runs a function that must throw a `ValidationError`, and returns that error. */
export function thrownValidation(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}
