// Command-line values checked before anything is sent: a wrong one is a usage error (exit 2).
import { InvalidArgumentError } from 'commander';

/** A release version X.Y.Z, as the API takes it. */
export const VERSION = /^\d+\.\d+\.\d+$/;

export function positiveInteger(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive whole number');
  return Number(value);
}

/** A reason the API records (a hold, a lift): something must be said. */
export function reasonText(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must say why');
  return value;
}

/**
 * `--override-reason`, sent as the Mir-Override-Reason header: a header value must be one line of
 * printable ASCII, which fetch would otherwise refuse as if mir could not be reached.
 */
export function overrideReason(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must say why');
  if (!/^[\x20-\x7e]+$/.test(value)) throw new InvalidArgumentError('must be one line of printable ASCII (it is sent as an HTTP header)');
  return value;
}

/** The header an admin's break-glass override travels in, when one was given. */
export function overrideHeader(reason: string | undefined): { 'Mir-Override-Reason'?: string } {
  return reason === undefined ? {} : { 'Mir-Override-Reason': reason };
}
