// Command-line values checked before anything is sent: a wrong one is a usage error (exit 2).
import { InvalidArgumentError } from 'commander';

/** A release version X.Y.Z, as the API takes it. */
export const VERSION = /^\d+\.\d+\.\d+$/;

export function positiveInteger(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive whole number');
  return Number(value);
}
