// The scalar values of the repository format. Every path and branch name is built from
// values that passed one of these checks, so the patterns here are the first line of defence
// against path traversal as much as they are input validation.

import { invalidField } from '../errors.js';

/** Retool's `elementType`: an app is a `PAGE`. */
export type ElementType = 'PAGE' | 'WORKFLOW';
export const ELEMENT_TYPES: readonly ElementType[] = Object.freeze(['PAGE', 'WORKFLOW'] as const);

/** The release reference meaning "the source on the default branch", with no artifact. */
export const LATEST = 'latest';

// RFC 4122 shape only (8-4-4-4-12 hex): Retool's own element uuids are v4, but nothing in the
// format depends on the version or variant nibbles, and the nil uuid is handy in fixtures.
// Both cases are accepted because RFC 4122 §3 says input is case-insensitive; every value is
// stored, compared and written lowercase (as Retool writes it).
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MANIFEST_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const LINE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}

/** A uuid exactly as it appears in paths and files this service writes: lowercase. */
export function isCanonicalUuid(s: unknown): s is string {
  return typeof s === 'string' && CANONICAL_UUID.test(s);
}

export function isManifestName(s: unknown): s is string {
  return typeof s === 'string' && MANIFEST_NAME.test(s);
}

/** Strict `X.Y.Z`: no `v`, no pre-release, no build metadata, no leading zeros. */
export function isVersion(s: unknown): s is string {
  return typeof s === 'string' && VERSION.test(s);
}

/** A hotfix line, `X.Y`. */
export function isLine(s: unknown): s is string {
  return typeof s === 'string' && LINE.test(s);
}

export function isElementType(s: unknown): s is ElementType {
  return s === 'PAGE' || s === 'WORKFLOW';
}

/** What a manifest entry may point at: a version or `latest`. */
export function isReleaseRef(s: unknown): s is string {
  return s === LATEST || isVersion(s);
}

// --- parsers: unknown in, validated value out, 400 validation_failed otherwise -------------------

const UUID_EXAMPLE = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidField(field, `must be a string, got ${describeForError(value)}`);
  return value;
}

/** Returns the uuid lowercased. */
export function parseUuid(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (!UUID.test(s)) throw invalidField(field, `must be a UUID like ${UUID_EXAMPLE}, got ${quoteForError(s)}`);
  return s.toLowerCase();
}

export function parseManifestName(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (!MANIFEST_NAME.test(s)) {
    throw invalidField(field, `must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got ${quoteForError(s)}`);
  }
  return s;
}

export function parseVersion(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (!VERSION.test(s)) {
    throw invalidField(field, `must be a version X.Y.Z (digits only, no leading zeros), got ${quoteForError(s)}`);
  }
  return s;
}

export function parseLine(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (!LINE.test(s)) throw invalidField(field, `must be a release line X.Y, got ${quoteForError(s)}`);
  return s;
}

export function parseElementType(value: unknown, field: string): ElementType {
  const s = requireString(value, field);
  if (!isElementType(s)) throw invalidField(field, `must be PAGE or WORKFLOW, got ${quoteForError(s)}`);
  return s;
}

/** A version `X.Y.Z` or the literal `latest`. */
export function parseReleaseRef(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (!isReleaseRef(s)) throw invalidField(field, `must be a version X.Y.Z or latest, got ${quoteForError(s)}`);
  return s;
}

// --- message helpers shared by the other format modules -------------------------------------------

/** Quotes a value for an error message, cut short so a huge input cannot bloat the error. */
export function quoteForError(s: string): string {
  const shown = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  return JSON.stringify(shown);
}

export function describeForError(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${quoteForError(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}
