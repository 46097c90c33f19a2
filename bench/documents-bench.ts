// Large JSON documents in embedded PGlite: the intent of a whole-manifest pull request (one
// set_entry per entry) written and read back as jsonb text, the way mir stored it before migration
// 0011, and packed (src/db/packed-json.ts), the way it stores it now. PGlite runs each statement in
// one synchronous call on the event loop, so a statement's time is a stall of every request; the
// packing's gzip runs on libuv's thread pool, and only JSON.stringify / JSON.parse stay on the loop.
// One PGlite on a file-backed data dir in this process, as mir runs it; median of --runs.
//
//   npx tsx bench/documents-bench.ts [--runs 5] [--no-write]
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPGlite } from '../src/db/client.js';
import { packJson, unpackJson } from '../src/db/packed-json.js';
import { appendResults, machine, numberFlag, writeResults } from './results.js';

const RUNS = numberFlag('runs', 5);
const SIZES = [1_000, 14_000, 50_000];

function intent(entries: number) {
  const operations = [];
  for (let i = 0; i < entries; i++) {
    operations.push({ op: 'set_entry', manifest: 'prod', element_type: 'PAGE', element_uuid: randomUUID(), from: `1.${i % 40}.0`, to: `1.${i % 40}.1` });
  }
  return { version: 1, operations };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const value = await f();
  return [value, performance.now() - start];
}

interface Row {
  entries: number;
  jsonBytes: number;
  packedBytes: number;
  jsonbInsert: number;
  jsonbSelect: number;
  stringify: number;
  packedInsert: number;
  packedSelect: number;
  parse: number;
  pack: number;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-documents-bench-'));
const pglite = await createPGlite(dir);
await pglite.exec('create table as_jsonb (id serial primary key, v jsonb not null); create table packed (id serial primary key, v bytea not null);');
const rows: Row[] = [];
try {
  for (const entries of SIZES) {
    const value = intent(entries);
    const samples: Record<Exclude<keyof Row, 'entries' | 'jsonBytes' | 'packedBytes'>, number[]> = {
      jsonbInsert: [],
      jsonbSelect: [],
      stringify: [],
      packedInsert: [],
      packedSelect: [],
      parse: [],
      pack: [],
    };
    let jsonBytes = 0;
    let packedBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      const [text, stringify] = await timed(() => JSON.stringify(value));
      jsonBytes = Buffer.byteLength(text);
      samples.stringify.push(stringify);
      const [inserted, jsonbInsert] = await timed(() => pglite.query<{ id: number }>('insert into as_jsonb (v) values ($1::jsonb) returning id', [text]));
      samples.jsonbInsert.push(jsonbInsert);
      samples.jsonbSelect.push((await timed(() => pglite.query('select v from as_jsonb where id = $1', [inserted.rows[0]!.id])))[1]);

      const [base64, pack] = await timed(() => packJson(value));
      samples.pack.push(pack);
      packedBytes = Buffer.byteLength(base64, 'base64');
      const [stored, packedInsert] = await timed(() =>
        pglite.query<{ id: number }>("insert into packed (v) values (decode($1, 'base64')) returning id", [base64]),
      );
      samples.packedInsert.push(packedInsert);
      const [read, packedSelect] = await timed(() =>
        pglite.query<{ v: string }>("select encode(v, 'base64') as v from packed where id = $1", [stored.rows[0]!.id]),
      );
      samples.packedSelect.push(packedSelect);
      // unpackJson's gunzip is off the loop; its JSON.parse is on it, measured as parse.
      samples.parse.push((await timed(() => JSON.parse(text) as unknown))[1]);
      await unpackJson(read.rows[0]!.v);
    }
    const row = { entries, jsonBytes, packedBytes, ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) } as Row;
    rows.push(row);
    process.stdout.write(`${entries} entries: ${JSON.stringify(row)}\n`);
  }
} finally {
  await pglite.close();
  await rm(dir, { recursive: true, force: true });
}

const ms = (n: number) => n.toFixed(1);
const kib = (n: number) => (n / 1024).toFixed(0);
const lines = [
  `## Large JSON documents in PGlite: a whole-manifest intent as jsonb and packed (${machine()})`,
  '',
  `\`npx tsx bench/documents-bench.ts\`: one PGlite on a file-backed data dir in the bench's process (src/db/client.ts's start parameters), the intent of a pull request setting every entry of a manifest, median of ${RUNS}. Each statement is one synchronous call of PGlite: its time is how long every other request waits. "Packed" (src/db/packed-json.ts, migration 0011) is gzip in bytea moved as base64 text; gzip runs on libuv's thread pool (its time, "pack", is wall time, not a stall). JSON.stringify before the write and JSON.parse after the read are on the event loop either way.`,
  '',
  '| entries | JSON KiB | packed KiB | jsonb insert ms | jsonb select ms | packed insert ms | packed select ms | JSON.stringify / JSON.parse ms | pack (thread pool) ms |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.entries.toLocaleString('en-US')} | ${kib(r.jsonBytes)} | ${kib(r.packedBytes)} | ${ms(r.jsonbInsert)} | ${ms(r.jsonbSelect)} | ${ms(r.packedInsert)} | ${ms(r.packedSelect)} | ${ms(r.stringify)} / ${ms(r.parse)} | ${ms(r.pack)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (writeResults) await appendResults('documents', lines.join('\n'));
