// Response serializers, compiled once per schema and shared by every app in the process. Fastify
// compiles a fast-json-stringify function for each response schema of each route; every route lists
// ~10 problem responses, all the same `ProblemRef`, so a new app recompiled the same serializer
// hundreds of times (~0.7 s per app, and tests build an app per file or per test). This does what
// Fastify's default compiler (@fastify/fast-json-stringify-compiler) does, plus a cache keyed by the
// schema's JSON text and the external schemas it was compiled against: the routes' success
// envelopes are new objects in each app (built inside the route plugins) but the same text, and a
// serializer depends on nothing else. TypeBox schemas are never mutated.
import fastJsonStringify, { type Schema } from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { sameSchemas } from './validators.js';

type Serialize = (data: unknown) => string;
const idOf = (schema: object): unknown => (schema as { $id?: unknown }).$id;

interface Compiled {
  readonly externals: readonly TSchema[];
  readonly serialize: Serialize;
}

const compiled = new Map<string, Compiled[]>();

/** A serializer compiler for `app.setSerializerCompiler`; `externals` are the schemas given to `app.addSchema`. */
export function sharedSerializerCompiler(externals: readonly TSchema[]): FastifySerializerCompiler<TSchema> {
  const list = [...externals];
  return ({ schema }) => {
    const key = JSON.stringify(schema);
    const entries = compiled.get(key) ?? [];
    const hit = entries.find((entry) => sameSchemas(entry.externals, list));
    if (hit) return hit.serialize;
    // As Fastify's default: a schema that is itself an external one is not given to itself.
    const byId: Record<string, Schema> = {};
    for (const external of list) {
      const id = idOf(external);
      if (typeof id === 'string' && id !== idOf(schema)) byId[id] = external as Schema;
    }
    const serialize = fastJsonStringify(schema as Schema, { schema: byId }) as Serialize;
    entries.push({ externals: list, serialize });
    compiled.set(key, entries);
    return serialize;
  };
}
