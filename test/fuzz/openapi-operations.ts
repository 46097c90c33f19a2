// The operations of the committed openapi/openapi.json, read at test time with every `$ref`
// resolved, in the shape the fuzz generators need. A route added to the app is in the document
// (test/openapi.test.ts keeps the two equal), so it is fuzzed the day it is added.
import { readFile } from 'node:fs/promises';
import { OPENAPI_PATH } from '../../src/openapi-document.js';

/** The JSON Schema subset the document uses. */
export interface Schema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly default?: unknown;
}

export interface Parameter {
  readonly in: 'path' | 'query' | 'header';
  readonly name: string;
  readonly required: boolean;
  readonly schema: Schema;
}

export interface Operation {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI form: `/api/v2/tokens/{id}`. */
  readonly path: string;
  readonly tags: readonly string[];
  readonly parameters: readonly Parameter[];
  /** Absent: the route takes no body. */
  readonly body?: { readonly required: boolean; readonly schema: Schema };
  /** Whether the route needs a bearer token. */
  readonly secured: boolean;
  /** Documented response statuses. */
  readonly statuses: readonly string[];
  /** Its 200 answer is a stream that stays open (text/event-stream). */
  readonly streams: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function resolve(node: Json, root: Json, seen: readonly string[] = []): Json {
  if (Array.isArray(node)) return node.map((item) => resolve(item, root, seen));
  if (node === null || typeof node !== 'object') return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (seen.includes(ref)) throw new Error(`circular $ref ${ref}`);
    if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
    let target: Json = root;
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, Json>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]!;
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return resolve(target, root, [...seen, ref]);
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value, root, seen)]));
}

export async function loadOperations(): Promise<Operation[]> {
  const document = JSON.parse(await readFile(OPENAPI_PATH, 'utf8')) as Json;
  const paths = resolve((document as { paths: Json }).paths, document) as Record<string, Record<string, Record<string, unknown>>>;
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = operation.requestBody as { required?: boolean; content?: Record<string, { schema?: Schema }> } | undefined;
      const schema = content?.content?.['application/json']?.schema;
      operations.push({
        operationId: operation.operationId as string,
        method: method.toUpperCase() as Operation['method'],
        path,
        tags: (operation.tags as string[] | undefined) ?? [],
        parameters: ((operation.parameters as Parameter[] | undefined) ?? []).map((p) => ({ ...p, required: Boolean(p.required) })),
        ...(content ? { body: { required: Boolean(content.required), schema: schema ?? {} } } : {}),
        secured: Array.isArray(operation.security) && operation.security.length > 0,
        statuses: Object.keys((operation.responses as Record<string, unknown> | undefined) ?? {}),
        streams: Boolean((operation.responses as Record<string, { content?: Record<string, unknown> }> | undefined)?.['200']?.content?.['text/event-stream']),
      });
    }
  }
  return operations;
}
