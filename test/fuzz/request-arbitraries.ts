// fast-check arbitraries of hostile requests for one documented operation, and the oracle that says
// which of them must be refused. Each part of a request (path parameters, query, body, encoding,
// credentials) is either a plausible value (a real name from the world, or one valid for its
// schema) or a malformed one: wrong types, missing and extra fields, strings PostgreSQL or git
// cannot store, long and odd unicode, path traversal and encoded slashes, numbers in any form but
// the canonical decimal, bad semver and element types, a byte-order mark, other charsets and
// media types, malformed JSON, bodies where none is taken.
//
// The oracle does not trust the generator's intent: a part counts as refused only when the
// committed document's own schema (compiled with Ajv as the app compiles it: bodies exact, path
// and query coerced from strings) rejects it, or when one of mir's input rules does (NUL or a lone
// surrogate anywhere, a non-canonical integer, a body on a route that takes none, a charset other
// than UTF-8, a byte-order mark, a body over the limit, a write with a token that may only read).
// Where neither can tell (a lone surrogate percent-encoded in a query, a body on a GET, a
// dot-segment the URL parser resolves into another route) the part is "unknown", never "refused".
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Operation, Parameter, Schema } from './openapi-operations.js';
import type { World } from './fuzz-world.js';

const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv };
const bodyAjv = addFormats.default(new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: true }));
const paramAjv = addFormats.default(new Ajv({ allErrors: false, strict: false, coerceTypes: 'array', useDefaults: true }));
const compiled = new WeakMap<object, ValidateFunction>();
const paramCompiled = new WeakMap<object, ValidateFunction>();

function validBody(schema: Schema, value: unknown): boolean {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = bodyAjv.compile(schema)));
  return validate(structuredClone(value === undefined ? null : value));
}

export interface FuzzRequest {
  readonly method: Operation['method'];
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string;
  /** The document or mir's input rules refuse it: the answer must be a 4xx. */
  readonly refused: boolean;
  /** The URL normalises to another path (dot segments, empty segments): the route is not this one. */
  readonly rerouted: boolean;
  /** What was done to it, for a failure's message. */
  readonly notes: readonly string[];
}

type Verdict = 'valid' | 'refused' | 'unknown';
interface Part<T> {
  readonly value: T;
  readonly verdict: Verdict;
  readonly note?: string;
}

const BODY_LIMIT = 65_536;
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);

function hasUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value);
  if (Array.isArray(value)) return value.some(hasUnstorable);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => unstorable(k) || hasUnstorable(v));
  return false;
}

// --- strings ------------------------------------------------------------------------------------

const CONTROL = fc.constantFrom('\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e', '\u200b', '\ufeff', '\ufffe');
const ODD_UNICODE = fc.constantFrom('é', 'e\u0301', '𝒜', '😀', '👩‍👩‍👧', 'ﬀ', 'İ', 'ß', '١٢٣', '６', '∞', '\u00a0', 'Ω', '�');
const UNSTORABLE = fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\udc00b', '\ud83d', 'x\u0000y');

/** Strings a schema may well accept but a careless server chokes on. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 12, unit: 'grapheme' }),
  fc.array(fc.oneof(CONTROL, ODD_UNICODE, fc.string({ maxLength: 3 })), { maxLength: 8 }).map((parts) => parts.join('')),
  fc.constantFrom(
    ' ',
    '  x  ',
    '.',
    '..',
    '../../etc/passwd',
    '..\\..\\x',
    '%2e%2e%2f',
    '/',
    'a/b',
    '\\',
    '*',
    '?',
    '#',
    '%00',
    '${x}',
    '{{x}}',
    "'; drop table x; --",
    '<script>',
    'null',
    'true',
    '0',
    '-1',
  ),
  fc.integer({ min: 1_000, max: 12_000 }).chain((n) => fc.constantFrom('x', 'é', '😀', 'ab\u202e').map((c) => c.repeat(Math.ceil(n / c.length)))),
);

const BAD_SEMVER = [
  '1.0',
  '1',
  '1.0.0.0',
  '01.0.0',
  '1.00.0',
  'v1.0.0',
  '1.0.0-rc.1',
  '1.0.0+build',
  ' 1.0.0',
  '1.0.0 ',
  '1.0.0\n',
  '١.٠.٠',
  '1.0.-1',
  '-1.0.0',
  '1..0',
  'latest ',
  'LATEST',
  '99999999999999999999.0.0',
  '1.0.x',
  '*',
  '^1.0.0',
  '1.0.0%00',
];
const BAD_ELEMENT_TYPE = ['page', 'Page', 'APP', 'APPS', 'PAGE ', ' PAGE', 'WORKFLOWS', 'workflow', 'PAGE,WORKFLOW', 'MODULE', '', 'null', '0'];
const BAD_UUIDS = [
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000',
  '00000000-0000-0000-0000-0000000000000',
  '{00000000-0000-0000-0000-000000000000}',
  'g0000000-0000-0000-0000-000000000000',
  '00000000000000000000000000000000',
  '../00000000-0000-0000-0000-000000000000',
];
const BAD_NAMES = ['', '-x', '_x', 'A', 'Prod', 'prod ', 'pr od', 'a.b', '..', '.', 'a/b', 'a\\b', 'x'.repeat(64), 'ä', 'prod\n', 'con', 'a:b', '~x', '.git'];
const NON_CANONICAL_INTEGERS = [
  '0x10',
  '0X1',
  '+6',
  '06',
  '00',
  '6e0',
  '1e3',
  ' 6',
  '6 ',
  '6.0',
  '6.',
  '.6',
  '-0',
  '1_0',
  '0b1',
  '0o7',
  '６',
  '٦',
  'Infinity',
  'NaN',
  '',
  '1,2',
  '99999999999999999999999',
];

function stringsFor(schema: Schema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...schema.enum.filter((v): v is string => typeof v === 'string'));
  const max = Math.min(schema.maxLength ?? 40, 40);
  const min = schema.minLength ?? 0;
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'email') return fc.constantFrom('grace@example.com', 'a.b+c@example.org');
  if (schema.format === 'date-time')
    return fc.date({ min: new Date('2030-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.constantFrom('https://example.com/', 'https://retool.example.com/app?x=1');
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
  return fc.oneof(
    fc.string({ minLength: min, maxLength: Math.max(min, max) }),
    hostileString.filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity)),
  );
}

// --- values from schemas ------------------------------------------------------------------------

/** Real names from the world for a field, kept only where the schema accepts them. */
function hintsFor(name: string, world: World): string[] {
  if (/^(manifestName|manifest)$/.test(name)) return [world.manifest, world.instance, 'unknown-manifest'];
  if (/^name$/.test(name)) return [world.instance, world.manifest, 'fuzz-new'];
  if (/uuid/i.test(name)) return [world.appUuid, world.workflowUuid];
  if (/^(version|release|release_version)$/.test(name)) return [...world.versions, 'latest', '7.7.7'];
  if (name === 'base_sha') return [world.headSha];
  if (name === 'id') return [world.hotfixId, world.tokenId];
  if (name === 'number') return [String(world.pullRequest)];
  return [];
}

function validFor(schema: Schema, world: World, name = '', depth = 0): fc.Arbitrary<unknown> {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((branch) => validFor(branch, world, name, depth)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const hints = hintsFor(name, world).filter((h) => validBody(schema, h));
      return hints.length > 0
        ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...hints) }, { weight: 1, arbitrary: stringsFor(schema) })
        : stringsFor(schema);
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000, max: Math.min(schema.maximum ?? 1_000, 1_000_000) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      if (depth > 4) return fc.constant([]);
      return fc.array(validFor(schema.items ?? {}, world, name, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      if (depth > 4) return fc.constant({});
      const properties = schema.properties ?? {};
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([key, sub]) => [key, validFor(sub, world, key, depth + 1)])), {
        requiredKeys: (schema.required ?? []).filter((key) => key in properties),
      });
      return schema.minProperties ? record.filter((o) => Object.keys(o).length >= schema.minProperties!) : record;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const WRONG_TYPES: unknown[] = [0, -1, 1.5, 1e300, true, false, null, '', 'x', [], [null], {}, { x: 1 }];

/** Values the schema rejects (checked with Ajv, so "invalid" is never a guess), or unstorable strings. */
function invalidFor(schema: Schema, world: World, name = '', depth = 0): fc.Arbitrary<unknown> {
  // A schema that takes anything (the webhook's raw body): only mir's own rules can refuse.
  if (!schema.type && !schema.enum && !schema.anyOf && !schema.oneOf && !schema.properties && schema.const === undefined) return UNSTORABLE;
  const candidates: fc.Arbitrary<unknown>[] = [fc.constantFrom(...WRONG_TYPES)];
  const types = new Set([schema.type, ...(schema.anyOf ?? []).map((b) => b.type)].flat().filter(Boolean));
  if (types.has('string') || schema.enum) {
    candidates.push(fc.constantFrom(...BAD_SEMVER, ...BAD_ELEMENT_TYPE, ...BAD_UUIDS, ...BAD_NAMES));
    candidates.push(
      validFor(schema, world, name, depth)
        .filter((v): v is string => typeof v === 'string')
        .chain((s) => UNSTORABLE.chain((bad) => fc.nat(s.length).map((at) => s.slice(0, at) + bad + s.slice(at)))),
    );
    if (schema.maxLength !== undefined) candidates.push(fc.constantFrom('x', 'é', '😀').map((c) => c.repeat(schema.maxLength! + 1)));
  }
  if (types.has('integer'))
    candidates.push(fc.constantFrom(0, -1, 1.5, 2_147_483_648, Number.MAX_SAFE_INTEGER + 2, (schema.maximum ?? 0) + 1, (schema.minimum ?? 0) - 1));
  if (types.has('object') && depth < 4) {
    const properties = Object.entries(schema.properties ?? {});
    const base = validFor({ ...schema, anyOf: undefined, oneOf: undefined, type: 'object' }, world, name, depth) as fc.Arbitrary<Record<string, unknown>>;
    if (schema.required?.length)
      candidates.push(
        base.chain((o) =>
          fc.constantFrom(...schema.required!).map((key) => {
            const { [key]: _gone, ...rest } = o;
            return rest;
          }),
        ),
      );
    if (schema.additionalProperties === false)
      candidates.push(
        base.chain((o) =>
          fc
            .tuple(fc.constantFrom('surprise', 'dry_run', '__proto__', 'constructor', 'Release', 'release ', ''), fc.jsonValue({ maxDepth: 1 }))
            .map(([k, v]) => ({ ...o, [k]: v })),
        ),
      );
    if (properties.length > 0) {
      candidates.push(
        base.chain((o) => fc.constantFrom(...properties).chain(([key, sub]) => invalidFor(sub, world, key, depth + 1).map((bad) => ({ ...o, [key]: bad })))),
      );
      candidates.push(base.chain((o) => UNSTORABLE.map((bad) => ({ ...o, [`k${bad}`]: 1 }))));
    }
  }
  if (types.has('array') && depth < 4 && schema.items) {
    candidates.push(fc.array(invalidFor(schema.items, world, name, depth + 1), { minLength: 1, maxLength: 2 }));
    if (schema.maxItems !== undefined && schema.maxItems <= 1000)
      candidates.push(validFor(schema.items, world, name, depth + 1).map((item) => Array.from({ length: schema.maxItems! + 1 }, () => item)));
  }
  return fc.oneof(...candidates).filter((value) => hasUnstorable(value) || !validBody(schema, value));
}

// --- request parts ------------------------------------------------------------------------------

const RAW_SEGMENTS = [
  '%00',
  '%2F',
  'a%2Fb',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2fx',
  '..%5C..%5Cx',
  '%ED%A0%80',
  '%ED%BF%BF',
  '%C0%AF',
  '%FF',
  '%zz',
  '%',
  '%252F',
  '%u002e',
  '%E2%80%AE',
  '%0A',
  '%20',
  '.',
  '..',
  '%2e',
  '%2E%2E',
  '',
];

function encodeValue(value: string): string {
  // A lone surrogate has no UTF-8 form: send the bytes a careless client would (CESU-8).
  return [...value]
    .map((ch) =>
      LONE_SURROGATE.test(ch)
        ? `%${[0xed, 0xa0 | ((ch.charCodeAt(0) >> 6) & 0x1f), 0x80 | (ch.charCodeAt(0) & 0x3f)].map((b) => b.toString(16).toUpperCase()).join('%')}`
        : encodeURIComponent(ch),
    )
    .join('');
}

function paramSchemaValid(parameter: Parameter, value: unknown): boolean {
  const schema = { type: 'object', properties: { [parameter.name]: parameter.schema }, required: parameter.required ? [parameter.name] : [] };
  let validate = paramCompiled.get(parameter);
  if (!validate) paramCompiled.set(parameter, (validate = paramAjv.compile(schema)));
  return validate(value === undefined ? {} : { [parameter.name]: value });
}

/** The verdict on a decoded path or query value, by the document's schema and mir's input rules. */
function judgeValue(parameter: Parameter, decoded: string | string[] | undefined): Verdict {
  const values = decoded === undefined ? [] : Array.isArray(decoded) ? decoded : [decoded];
  if (values.some(unstorable)) return 'refused';
  if (parameter.schema.type === 'integer' && values.some((v) => !CANONICAL_INTEGER.test(v))) return 'refused';
  return paramSchemaValid(parameter, decoded) ? 'valid' : 'refused';
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function pathPart(parameter: Parameter, world: World): fc.Arbitrary<Part<string>> {
  const good = hintsFor(parameter.name, world).filter((h) => judgeValue(parameter, h) === 'valid');
  const plausible = (good.length > 0 ? fc.constantFrom(...good) : validFor(parameter.schema, world, parameter.name).map(String)).map(encodeValue);
  const malformed = fc.oneof(
    fc.constantFrom(...RAW_SEGMENTS),
    parameter.schema.type === 'integer'
      ? fc.constantFrom(...NON_CANONICAL_INTEGERS).map(encodeValue)
      : fc.constantFrom(...BAD_NAMES, ...BAD_UUIDS, ...BAD_SEMVER).map(encodeValue),
    invalidFor(parameter.schema, world, parameter.name)
      .filter((v) => typeof v === 'string' || typeof v === 'number')
      .map((v) => encodeValue(String(v))),
    hostileString.map(encodeValue),
  );
  return fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: malformed }).map((segment) => {
    const decoded = decode(segment);
    return {
      value: segment,
      verdict: decoded === null ? 'refused' : judgeValue(parameter, decoded),
      note: `path ${parameter.name}=${JSON.stringify(segment)}`,
    };
  });
}

type QueryEntry = readonly [string, string];

function queryPart(operation: Operation, world: World): fc.Arbitrary<Part<QueryEntry[]>> {
  const declared = operation.parameters.filter((p) => p.in === 'query');
  const entryFor = (parameter: Parameter): fc.Arbitrary<QueryEntry[]> => {
    const plausible = parameter.name === 'dry_run' ? fc.constant('true') : validFor(parameter.schema, world, parameter.name).map((v) => encodeValue(String(v)));
    const malformed = fc
      .oneof(
        parameter.schema.type === 'integer'
          ? fc.constantFrom(...NON_CANONICAL_INTEGERS)
          : fc.constantFrom(...BAD_ELEMENT_TYPE, ...BAD_SEMVER, 'maybe', 'TRUE', '1', 'yes', 'null'),
        invalidFor(parameter.schema, world, parameter.name)
          .filter((v) => typeof v !== 'object')
          .map(String),
        UNSTORABLE,
        hostileString,
      )
      .map(encodeValue);
    const once = (v: string): QueryEntry[] => [[parameter.name, v]];
    return fc.oneof(
      { weight: 4, arbitrary: plausible.map(once) },
      { weight: 3, arbitrary: malformed.map(once) },
      // dry_run is never left out or repeated: a write that slipped through would then be real.
      { weight: parameter.name === 'dry_run' ? 0 : 1, arbitrary: fc.constant<QueryEntry[]>([]) },
      { weight: parameter.name === 'dry_run' ? 0 : 1, arbitrary: fc.tuple(plausible, malformed).map(([a, b]): QueryEntry[] => [...once(a), ...once(b)]) },
    );
  };
  const extra = fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as QueryEntry[]) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('x', 'limit', 'elementType', 'DRY_RUN', '__proto__', '%00', 'a%ED%A0%80'), fc.constantFrom('1', '%00', '%ED%A0%80', '%zz', ''))
        .map(([k, v]) => [[k, v] as const]),
    },
  );
  return fc.tuple(fc.tuple(...declared.map(entryFor)), extra).map(([entries, extras]) => {
    const all = [...entries.flat(), ...extras];
    const decoded = new Map<string, string[]>();
    let unknown = false;
    for (const [key, value] of all) {
      const k = decode(key.replace(/\+/g, ' '));
      const v = decode(value.replace(/\+/g, ' '));
      if (k === null || v === null) {
        unknown = true;
        continue;
      }
      decoded.set(k, [...(decoded.get(k) ?? []), v]);
    }
    let verdict: Verdict = unknown ? 'unknown' : 'valid';
    for (const [key, values] of decoded) if (unstorable(key) || values.some(unstorable)) verdict = 'refused';
    for (const parameter of declared) {
      const values = decoded.get(parameter.name);
      const judged = judgeValue(parameter, values === undefined ? undefined : values.length === 1 ? values[0] : values);
      if (judged === 'refused') verdict = 'refused';
    }
    return { value: all, verdict, note: `query ${all.map(([k, v]) => `${k}=${v}`).join('&')}` };
  });
}

interface Body {
  readonly contentType?: string;
  readonly payload?: string;
}

const BAD_CHARSETS = ['utf-16', 'UTF-16LE', 'latin1', 'iso-8859-1', 'windows-1252', 'us-ascii', 'ucs-2'];
const OTHER_MEDIA = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream'];
const MALFORMED_JSON = ['{', '{"a":', '[1,]', "{'a':1}", '{"a":1}}', 'nul', 'NaN', '{"a":01}', '"\\ud800', '\u0000', '{"a":"\\x41"}', '['.repeat(3000)];

function bodyPart(operation: Operation, world: World): fc.Arbitrary<Part<Body>> {
  const schema = operation.body?.schema;
  // The webhook route keeps the exact bytes it verifies: encodings are its parser's business.
  const raw = schema !== undefined && Object.keys(schema).every((k) => k === 'description');
  const bodyless = schema === undefined;
  const ignored = operation.method === 'GET';
  const json = (value: unknown, contentType = 'application/json') => ({ contentType, payload: JSON.stringify(value) });
  const judgeJson = (value: unknown): Verdict => {
    if (ignored) return 'unknown';
    if (hasUnstorable(value) && !raw) return 'refused';
    if (bodyless) return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0 ? 'valid' : 'refused';
    return validBody(schema!, value) ? 'valid' : 'refused';
  };
  const plausible = bodyless ? fc.constant({}) : validFor(schema!, world);
  const malformedValue = bodyless
    ? fc.oneof(
        fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null && !(typeof v === 'object' && Object.keys(v).length === 0)),
        fc.constant({ force: true }),
      )
    : invalidFor(schema!, world);
  const encoded =
    (kind: string, verdict: (payload: string) => Verdict) =>
    (body: Body): Part<Body> => ({
      value: body,
      verdict: ignored || raw ? 'unknown' : verdict(body.payload ?? ''),
      note: `body (${kind}) ${body.contentType ?? '-'} ${JSON.stringify(body.payload?.slice(0, 200))}`,
    });
  return fc.oneof(
    {
      weight: bodyless ? 1 : 3,
      arbitrary: plausible.map((value) => ({ value: json(value), verdict: judgeJson(value), note: `body ${JSON.stringify(value)?.slice(0, 300)}` })),
    },
    {
      weight: 4,
      arbitrary: malformedValue.map((value) => ({ value: json(value), verdict: judgeJson(value), note: `body ${JSON.stringify(value)?.slice(0, 300)}` })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        value: {},
        verdict: ignored || raw || bodyless || validBody(schema!, null) ? 'unknown' : 'refused',
        note: 'no body',
      } satisfies Part<Body>),
    },
    {
      weight: 1,
      arbitrary: plausible.map((v) => ({ contentType: 'application/json', payload: `\ufeff${JSON.stringify(v)}` })).map(encoded('bom', () => 'refused')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(plausible, fc.constantFrom(...BAD_CHARSETS))
        .map(([v, charset]) => json(v, `application/json; charset=${charset}`))
        .map(encoded('charset', () => 'refused')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(plausible, fc.constantFrom('utf-8', 'UTF-8', 'utf8', '"utf-8"'))
        .map(([v, charset]) => ({ v, body: json(v, `application/json; charset=${charset}`) }))
        .map(({ v, body }) => ({
          value: body,
          verdict: ignored || raw ? 'unknown' : judgeJson(v),
          note: `body (utf-8 charset) ${body.contentType} ${body.payload?.slice(0, 200)}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(plausible, fc.constantFrom(...OTHER_MEDIA))
        .map(([v, contentType]) => ({ contentType, payload: JSON.stringify(v) }))
        .map(encoded('media type', (p) => (p.trim() === '' ? 'unknown' : 'refused'))),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...MALFORMED_JSON)
        .map((payload) => ({ contentType: 'application/json', payload }))
        .map(encoded('malformed', () => 'refused')),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('x', '😀')
        .map((c) => ({ contentType: 'application/json', payload: JSON.stringify({ big: c.repeat(BODY_LIMIT) }) }))
        .map(encoded('too large', () => 'refused')),
    },
  );
}

type Credentials = 'admin' | 'read-only' | 'none' | 'garbage';

function credentialsPart(operation: Operation): fc.Arbitrary<Part<Credentials>> {
  const judge = (c: Credentials): Verdict => {
    if (!operation.secured) return 'valid';
    if (c === 'none' || c === 'garbage') return 'refused';
    if (c === 'read-only') return operation.method === 'GET' ? 'unknown' : 'refused';
    return 'valid';
  };
  return fc
    .oneof({ weight: 8, arbitrary: fc.constant<Credentials>('admin') }, { weight: 1, arbitrary: fc.constantFrom<Credentials>('read-only', 'none', 'garbage') })
    .map((c) => ({ value: c, verdict: judge(c), note: `token ${c}` }));
}

const NOISE_HEADERS = fc.oneof(
  { weight: 6, arbitrary: fc.constant({} as Record<string, string>) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'W/"x"', 'zzz', '"abc", *', '0'.repeat(40)).map((v) => ({ 'if-none-match': v })) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'zzz', '"' + '0'.repeat(40) + '"', 'g'.repeat(40)).map((v) => ({ 'if-match': v })) },
  { weight: 1, arbitrary: fc.constantFrom('../../x', 'a b', 'x'.repeat(200), '%00').map((v) => ({ 'x-request-id': v })) },
);

export function requestArbitrary(operation: Operation, world: World): fc.Arbitrary<FuzzRequest> {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  return fc
    .record({
      path: fc.tuple(...pathParameters.map((p) => pathPart(p, world))),
      query: queryPart(operation, world),
      body: bodyPart(operation, world),
      credentials: credentialsPart(operation),
      headers: NOISE_HEADERS,
    })
    .map(({ path, query, body, credentials, headers }) => {
      let url = operation.path;
      pathParameters.forEach((p, i) => (url = url.replace(`{${p.name}}`, path[i]!.value)));
      const pathname = url;
      if (query.value.length > 0) url += `?${query.value.map(([k, v]) => `${k}=${v}`).join('&')}`;
      const rerouted = pathParameters.length > 0 && (path.some((p) => p.value === '') || new URL(pathname, 'http://mir.invalid').pathname !== pathname);
      const parts: Part<unknown>[] = [...path, query, body, credentials];
      const all: Record<string, string> = { ...headers };
      if (credentials.value === 'admin') all.authorization = `Bearer ${world.ctx.adminToken}`;
      if (credentials.value === 'read-only') all.authorization = `Bearer ${world.readOnlyToken}`;
      if (credentials.value === 'garbage') all.authorization = 'Bearer mir_0000000000000000';
      if (body.value.contentType) all['content-type'] = body.value.contentType;
      return {
        method: operation.method,
        url,
        headers: all,
        ...(body.value.payload !== undefined ? { payload: body.value.payload } : {}),
        refused: parts.some((p) => p.verdict === 'refused'),
        rerouted,
        notes: parts.map((p) => p.note).filter((n): n is string => Boolean(n)),
      };
    });
}
