// What the route schemas cannot say about hostile input, checked once for every route before
// validation, so that a refused request never reaches a service (nothing is written):
// - strings PostgreSQL or git cannot store: NUL (text and jsonb refuse U+0000) and lone UTF-16
//   surrogates (not encodable as UTF-8), in values and keys of the body, query and path;
// - numbers in the path and query in any form but the canonical decimal: Ajv's coercion reads
//   `0x10`, `+6`, `06`, `6e0` and ` 6` as numbers, so `…/pull_requests/0x10/merge` merged #16;
// - a body sent to a route that takes none (an empty `{}` stays allowed, as clients send it);
// - bodies that are not UTF-8 JSON: a charset other than UTF-8 is 415, a byte-order mark 400.
import type { FastifyInstance } from 'fastify';
import { errors, type FieldError } from '../errors.js';

const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;
/** Either problem's characters: one cheap scan clears nearly every string. */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/**
 * Where a NUL or a surrogate could come from in a JSON text decoded from UTF-8: only an escape
 * (decoding turns bad bytes into U+FFFD, never into a surrogate, and JSON refuses a raw NUL).
 */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
/**
 * Requests whose JSON body holds no such escape: nothing in it to walk. A whole manifest of
 * 14,000 entries is ~28,000 strings, whose walk held the event loop ~40 ms; the scan of its text
 * takes ~1 ms.
 */
const escapeFreeBodies = new WeakSet<object>();

/** Why `value` cannot be stored, or null. */
function unstorable(value: string): string | null {
  if (!SUSPECT.test(value)) return null;
  if (value.includes('\u0000')) return 'contains a NUL character, which cannot be stored';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate, which is not valid Unicode';
  return null;
}

/**
 * Field errors for every string (and key) PostgreSQL or git could not store. A body may hold tens
 * of thousands of strings (a whole manifest), so a field's name is spelled only for a problem.
 */
function checkStrings(value: unknown, field: string, out: FieldError[]): void {
  const path: (string | number)[] = [];
  const name = () => field + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  const walk = (item: unknown): void => {
    if (out.length >= 20 || path.length > 64) return;
    if (typeof item === 'string') {
      const problem = unstorable(item);
      if (problem) out.push({ field: name(), message: problem });
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        path.push(i);
        walk(item[i]);
        path.pop();
      }
    } else if (item !== null && typeof item === 'object') {
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue;
        const problem = unstorable(key);
        if (problem) {
          out.push({ field: `${name()} key ${JSON.stringify(key)}`, message: problem });
          continue;
        }
        path.push(key);
        walk((item as Record<string, unknown>)[key]);
        path.pop();
      }
    }
  };
  walk(value);
}

interface ObjectSchema {
  readonly properties?: Record<string, { type?: unknown }>;
}

function checkIntegers(values: unknown, schema: unknown, part: string, out: FieldError[]): void {
  const properties = (schema as ObjectSchema | undefined)?.properties;
  if (!properties || values === null || typeof values !== 'object') return;
  for (const [name, property] of Object.entries(properties)) {
    if (property.type !== 'integer') continue;
    const raw = (values as Record<string, unknown>)[name];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value === 'string' && !CANONICAL_INTEGER.test(value))
        out.push({ field: `${part}.${name}`, message: 'must be a whole number written in decimal digits' });
    }
  }
}

const isEmptyObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;

export function registerInputChecks(app: FastifyInstance): void {
  acceptUtf8JsonBodiesOnly(app);
  app.addHook('preValidation', (request, _reply, done) => {
    const problems: FieldError[] = [];
    const schema = request.routeOptions.schema;
    checkStrings(request.params, 'params', problems);
    checkStrings(request.query, 'query', problems);
    if (!escapeFreeBodies.has(request)) checkStrings(request.body, 'body', problems);
    checkIntegers(request.params, schema?.params, 'params', problems);
    checkIntegers(request.query, schema?.querystring, 'query', problems);
    // A JSON string ("~~") is a body too. (The webhook route, whose parser keeps the raw string, has a body schema.)
    if (!schema?.body && request.body !== undefined && !isEmptyObject(request.body)) {
      problems.push({ field: 'body', message: 'must be empty: this route takes no body' });
    }
    done(problems.length > 0 ? errors.validation(problems) : undefined);
  });
}

/**
 * Bodies are UTF-8 JSON only (anything else is 415). Retool's `POST …/delete` routes take no body,
 * and some clients still send `Content-Type: application/json` with it; Fastify would answer 400 to
 * the empty body. Empty stays `undefined` here, and a route that needs a body still fails
 * validation with a clear message.
 */
function acceptUtf8JsonBodiesOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return done(errors.unsupportedMediaType(`Send the body as application/json in UTF-8, not ${charset}`), undefined);
    }
    const text = body as string;
    if (text.startsWith('\ufeff'))
      return done(errors.invalidJson('The body starts with a byte-order mark: send UTF-8 JSON without one (RFC 8259 §8.1)'), undefined);
    if (text.trim() === '') return done(null, undefined);
    if (!SUSPECT_ESCAPE.test(text)) escapeFreeBodies.add(request);
    return parseJson(request, text, done);
  });
}
