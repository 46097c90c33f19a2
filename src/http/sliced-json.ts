// Large answers serialized in slices. Fastify serializes an answer in one synchronous call; a pull
// request of 14,000 entries (its operations and its manifest changes, ~4 MB of JSON) held the event
// loop ~80 ms for that call and as long again for the byte length and the socket write of the
// string it made. `slicedSerializer` writes the same bytes as fast-json-stringify compiled from the
// same schema, but walks objects and arrays of objects itself, in the schema's order, giving the
// event loop a turn between slices and turning each slice into a Buffer as it goes; everything
// else (strings, numbers, unions, records, arrays of scalars) goes to fast-json-stringify compiled
// for that part of the schema. test/http/sliced-json.test.ts compares the two on the answers that
// use it.
import fastJsonStringify, { type Schema } from 'fast-json-stringify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { yieldToEventLoop } from '../runtime/event-loop.js';

type JsonSchema = Record<string, unknown>;

/** Bytes of text gathered before they become a Buffer (and the loop may get a turn). */
const PIECE_CHARS = 64 * 1024;

/** Keywords under which fast-json-stringify does more than write an object's listed properties. */
const OBJECT_EXTRAS = ['patternProperties', 'anyOf', 'oneOf', 'allOf', 'if', 'not', 'const', 'enum', 'nullable'];

class Output {
  private readonly buffers: Buffer[] = [];
  private text = '';

  write(text: string): void {
    this.text += text;
  }

  /** Turns the gathered text into bytes once there is enough of it, then lets the loop run. */
  async settle(): Promise<void> {
    if (this.text.length < PIECE_CHARS) return;
    this.buffers.push(Buffer.from(this.text));
    this.text = '';
    await yieldToEventLoop();
  }

  /** The gathered text, for a part written into its own Output. */
  take(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  bytes(): Buffer {
    if (this.text.length > 0) this.buffers.push(Buffer.from(this.text));
    return this.buffers.length === 1 ? this.buffers[0]! : Buffer.concat(this.buffers);
  }
}

type Write = (out: Output, value: unknown) => Promise<void> | void;
/** fast-json-stringify's part: written at once. */
type WriteNow = (out: Output, value: unknown) => void;

/** The writers that walk (arrays of objects, and the objects holding them). */
const walking = new WeakSet<Write>();

export type SlicedSerializer = (value: unknown) => Promise<Buffer>;

/**
 * A serializer for `schema` that writes what fast-json-stringify would, in slices. `externals` are
 * the schemas `$ref`s name (by `$id`), as given to `app.addSchema`.
 */
export function slicedSerializer(schema: object, externals: Readonly<Record<string, object>>): SlicedSerializer {
  const write = compile(schema as JsonSchema, externals, new Map());
  return async (value) => {
    const out = new Output();
    await write(out, value);
    return out.bytes();
  };
}

function compile(schema: JsonSchema, externals: Readonly<Record<string, object>>, compiling: Map<JsonSchema, Write>): Write {
  const resolved = resolve(schema, externals);
  const known = compiling.get(resolved);
  if (known) return known;
  // A schema that refers to itself is written by its own leaf serializer.
  const leaf = leafWriter(resolved, externals);
  compiling.set(resolved, leaf);
  let write: Write = leaf;
  if (isWalkedArray(resolved, externals)) write = arrayWriter(resolved, externals, compiling, leaf);
  else if (isWalkedObject(resolved)) write = objectWriter(resolved, externals, compiling, leaf) ?? leaf;
  compiling.set(resolved, write);
  if (write !== leaf) walking.add(write);
  return write;
}

function resolve(schema: JsonSchema, externals: Readonly<Record<string, object>>): JsonSchema {
  let current = schema;
  for (let hops = 0; typeof current.$ref === 'string' && hops < 8; hops++) {
    const target = externals[current.$ref];
    if (!target) break;
    current = target as JsonSchema;
  }
  return current;
}

function isWalkedObject(schema: JsonSchema): boolean {
  return (
    schema.type === 'object' &&
    typeof schema.properties === 'object' &&
    (schema.additionalProperties === undefined || schema.additionalProperties === false) &&
    !OBJECT_EXTRAS.some((keyword) => keyword in schema)
  );
}

function isWalkedArray(schema: JsonSchema, externals: Readonly<Record<string, object>>): boolean {
  if (schema.type !== 'array' || 'nullable' in schema || typeof schema.items !== 'object' || Array.isArray(schema.items)) return false;
  const items = resolve(schema.items as JsonSchema, externals);
  // Arrays of scalars have fast paths of their own in fast-json-stringify, and are small here.
  return items.type === 'object';
}

/** fast-json-stringify for `schema`, compiled when first used (most leaves of a walked schema never are). */
function leafWriter(schema: JsonSchema, externals: Readonly<Record<string, object>>): WriteNow {
  let serialize: ((value: unknown) => string) | undefined;
  return (out, value) => {
    if (!serialize) {
      // As src/http/serializers.ts: a schema that is itself an external one is not given to itself.
      const byId: Record<string, Schema> = {};
      for (const [id, external] of Object.entries(externals)) if (id !== schema.$id) byId[id] = external as Schema;
      serialize = fastJsonStringify(schema as unknown as Schema, { schema: byId }) as (value: unknown) => string;
    }
    out.write(serialize(value));
  };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * The writer of an object with an array of objects somewhere under it (null otherwise: small
 * enough to be written whole). Its properties in fast-json-stringify's order (required ones first);
 * each run of properties that are not walked is written by one fast-json-stringify serializer of
 * an object of just those properties, its braces taken off.
 */
function objectWriter(schema: JsonSchema, externals: Readonly<Record<string, object>>, compiling: Map<JsonSchema, Write>, leaf: Write): Write | null {
  const properties = schema.properties as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const unlisted = [...required].filter((key) => !(key in properties));
  const keys = Object.keys(properties).sort((a, b) => Number(required.has(b)) - Number(required.has(a)));
  type Segment = { walked: { key: string; name: string; required: boolean; fallback: unknown; write: Write } } | { run: WriteNow };
  const segments: Segment[] = [];
  let run: string[] = [];
  const endRun = () => {
    if (run.length === 0) return;
    const keysOfRun = run;
    const runSchema = {
      type: 'object',
      properties: Object.fromEntries(keysOfRun.map((key) => [key, properties[key]!])),
      required: keysOfRun.filter((key) => required.has(key)),
    };
    segments.push({ run: leafWriter(runSchema, externals) });
    run = [];
  };
  for (const key of keys) {
    const write = compile(properties[key]!, externals, compiling);
    if (!walking.has(write)) {
      run.push(key);
      continue;
    }
    endRun();
    const fallback = resolve(properties[key]!, externals).default;
    segments.push({ walked: { key, name: JSON.stringify(key) + ':', required: required.has(key), fallback, write } });
  }
  endRun();
  if (!segments.some((segment) => 'walked' in segment)) return null;
  const part = new Output();
  return async (out, value) => {
    if (!isPlainRecord(value)) return leaf(out, value);
    // fast-json-stringify checks required names that have no schema.
    for (const key of unlisted) if (value[key] === undefined) throw new Error(`${JSON.stringify(key)} is required!`);
    let opened = false;
    for (const segment of segments) {
      if ('run' in segment) {
        segment.run(part, value);
        // `{"a":1,"b":2}` → `"a":1,"b":2`; `{}` when none of the run's properties is there.
        const text = part.take();
        if (text.length === 2) continue;
        out.write((opened ? ',' : '{') + text.slice(1, -1));
        opened = true;
        continue;
      }
      const { key, name, required: needed, fallback, write } = segment.walked;
      const v = value[key];
      if (v === undefined && fallback === undefined) {
        if (needed) throw new Error(`${JSON.stringify(key)} is required!`);
        continue;
      }
      out.write((opened ? ',' : '{') + name);
      opened = true;
      if (v === undefined) out.write(JSON.stringify(fallback));
      else await write(out, v);
    }
    out.write(opened ? '}' : '{}');
  };
}

function arrayWriter(schema: JsonSchema, externals: Readonly<Record<string, object>>, compiling: Map<JsonSchema, Write>, leaf: Write): Write {
  const item = compile(schema.items as JsonSchema, externals, compiling);
  return async (out, value) => {
    if (!Array.isArray(value)) return leaf(out, value);
    out.write('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.write(',');
      await item(out, value[i]);
      await out.settle();
    }
    out.write(']');
  };
}

const perSchema = new WeakMap<object, SlicedSerializer>();

/**
 * Sends `payload` as this route's answer for the reply's status code, serialized in slices by the
 * route's own response schema (the same bytes Fastify would send).
 */
export async function sendInSlices(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<FastifyReply> {
  const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, object>;
  const schema = responses[String(reply.statusCode)];
  if (!schema) throw new Error(`sendInSlices: ${request.routeOptions.url} has no ${reply.statusCode} response schema`);
  let serialize = perSchema.get(schema);
  if (!serialize) {
    serialize = slicedSerializer(schema, request.server.getSchemas() as Record<string, object>);
    perSchema.set(schema, serialize);
  }
  return reply.type('application/json; charset=utf-8').send(await serialize(payload));
}
