// Packed JSON: a document too large to hand to the database as text or jsonb, stored as gzip'd
// UTF-8 JSON in a bytea column (a pull request's intent, an event's payload; migration 0011).
//
// Why: a whole-manifest write of 14,000 entries makes a 2 MB intent and a 1.5 MB event. Embedded
// PGlite runs each statement in one synchronous call on the event loop, and a 2 MB jsonb cost it
// ~90 ms to take in (its protocol writer walks the string in JS, then jsonb parses it) and ~30 to
// give back: in mir under load, a 90-115 ms stall of every other request, twice a write. gzip'd it
// is a sixth of that (element uuids do not compress) and goes in in ~16 ms, out in ~3; the gzip
// runs on libuv's thread pool, not the event loop (bench/RESULTS.md, "Large JSON documents").
//
// Packed bytes travel as base64 text (`decode`/`encode` in SQL): PGlite's bytea paths are slower
// (a 300 KB Buffer parameter took it ~50 ms, a 300 KB bytea result ~27 ms, measured in one
// process). PostgreSQL takes the same SQL.
//
// Rows from before migration 0011 hold their JSON unpacked (the migration converts jsonb to its
// UTF-8 text): `unpackJson` reads both, by gzip's magic bytes (JSON text never starts with 0x1f).
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { sql, type RawBuilder } from 'kysely';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The packed form of `value`, as base64 (for `packedValue`). */
export async function packJson(value: unknown): Promise<string> {
  return (await gzipAsync(JSON.stringify(value))).toString('base64');
}

/** The value of a packed column read through `packedColumn`. */
export async function unpackJson(base64: string): Promise<unknown> {
  const bytes = Buffer.from(base64, 'base64');
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzipAsync(bytes) : bytes;
  return JSON.parse(text.toString('utf8')) as unknown;
}

/** `rows` with their packed `key` (read through `packedColumn`) unpacked, one row at a time. */
export async function unpackEach<K extends string, R extends Record<K, string>>(rows: readonly R[], key: K): Promise<(Omit<R, K> & Record<K, unknown>)[]> {
  const out: (Omit<R, K> & Record<K, unknown>)[] = [];
  for (const row of rows) out.push({ ...row, [key]: await unpackJson(row[key]) } as Omit<R, K> & Record<K, unknown>);
  return out;
}

/** The SQL value of a packed column, from `packJson`'s base64. */
export function packedValue(base64: string): RawBuilder<Buffer> {
  return sql<Buffer>`decode(${base64}, 'base64')`;
}

/** A packed column as base64 text, for `unpackJson` (`column` may be qualified: `e.payload`). */
export function packedColumn(column: string): RawBuilder<string> {
  return sql<string>`encode(${sql.ref(column)}, 'base64')`;
}
