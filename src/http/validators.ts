// Request validators, compiled once per schema and shared by every app in the process (the
// serializers' twin, serializers.ts). Two Ajv instances: bodies are validated exactly (no type
// coercion, unknown fields rejected rather than silently removed, which is Fastify's default),
// while path, query and header values, which arrive as strings, are coerced to the declared types;
// allErrors lists every bad field at once. An app used to make its own pair and compile every
// route's schemas into it (~0.25 CPU-s per app, and tests build an app per file or per test); the
// pair now lives as long as the process, for each list of shared schemas it was given, and a
// compiled validator is found again by its schema's JSON text: route schemas are new objects in
// each app (built inside the route plugins) but the same text, and a validator depends on nothing
// else.
import { Ajv, type Options as AjvOptions, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv };

interface Validators {
  readonly externals: readonly TSchema[];
  readonly body: Ajv;
  readonly other: Ajv;
  readonly compiled: Map<string, ValidateFunction>;
}

const made: Validators[] = [];

/** A validator compiler for `app.setValidatorCompiler`; `externals` are the schemas given to `app.addSchema`. */
export function sharedValidatorCompiler(externals: readonly TSchema[]): FastifySchemaCompiler<TSchema> {
  const validators = made.find((entry) => sameSchemas(entry.externals, externals)) ?? create([...externals]);
  return ({ schema, httpPart }) => {
    const part = httpPart === 'body' ? 'body' : 'other';
    const key = `${part}\0${JSON.stringify(schema)}`;
    let validate = validators.compiled.get(key);
    if (!validate) {
      validate = validators[part].compile(schema);
      validators.compiled.set(key, validate);
    }
    return validate;
  };
}

function create(externals: readonly TSchema[]): Validators {
  const common: AjvOptions = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };
  const body = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const other = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }));
  for (const schema of externals) {
    body.addSchema(schema);
    other.addSchema(schema);
  }
  const validators = { externals, body, other, compiled: new Map<string, ValidateFunction>() };
  made.push(validators);
  return validators;
}

export function sameSchemas(a: readonly TSchema[], b: readonly TSchema[]): boolean {
  return a.length === b.length && a.every((schema, i) => schema === b[i]);
}
