// Shared by the test/repo suites: catch what a call throws so a test can assert on it.

import { AppError } from '../../src/errors.js';

/** The AppError `fn` throws; fails the calling test (by throwing) when it throws nothing or something else. */
export function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

export async function caughtAsync(fn: () => Promise<unknown>): Promise<AppError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

/** The `{status, code, details.errors[0]}` shape of a 400 naming one field. */
export function invalidField(field: string, message: RegExp) {
  return { status: 400, code: 'validation_failed', details: { errors: [{ field, message }] } };
}
