// The OpenAPI document a client is generated from: committed as generated, and held to what a
// generator needs — every operation summarised, described and exemplified, every answer described
// and typed by what the server really sends (problem documents with their codes, no body on a 304,
// a binary zip, Prometheus text), conditional headers declared where routes honour them — with the
// server checked against the document where it can be.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { generateOpenApiDocument, OPENAPI_PATH } from '../src/openapi-document.js';
import { buildTestApp } from './helpers/app.js';

interface Media {
  schema?: { $ref?: string; type?: string; format?: string; anyOf?: { type?: unknown }[] };
  example?: unknown;
  examples?: Record<string, { $ref?: string; value?: unknown }>;
}
interface Response {
  description?: string;
  headers?: Record<string, { $ref?: string; schema?: unknown }>;
  content?: Record<string, Media>;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { default?: unknown; format?: string; pattern?: string; type?: string; enum?: unknown[] };
}
interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, Media> };
  responses?: Record<string, Response>;
}
interface Document {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { examples: Record<string, { summary?: string; value: { code: string; status: number } }>; headers: Record<string, unknown> };
}

const document = JSON.parse(await generateOpenApiDocument()) as Document;
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ path, method, operation, name: `${method.toUpperCase()} ${path}` })),
);
const byId = (id: string) => operations.find((o) => o.operation.operationId === id)!.operation;
const hasExample = (media: Media | undefined) => media !== undefined && (media.example !== undefined || Object.keys(media.examples ?? {}).length > 0);

t.test('openapi/openapi.json is what `npm run openapi` generates from the routes', async (t) => {
  const committed = await readFile(OPENAPI_PATH, 'utf8');
  const generated = await generateOpenApiDocument();
  t.equal(committed, generated, 'run `npm run openapi` and commit the result');
});

t.test('every operation has an operationId, tags, a summary, a description and described, typed answers', async (t) => {
  const ids = new Set<string>();
  for (const { name, operation } of operations) {
    t.ok(operation.operationId, `${name} has an operationId`);
    t.notOk(ids.has(operation.operationId!), `${name}: operationId is unique`);
    ids.add(operation.operationId!);
    t.ok(operation.tags?.length, `${name} has tags`);
    t.ok(operation.summary, `${name} has a summary`);
    t.ok(operation.description && operation.description.length >= 40, `${name} has a description`);
    t.ok(Array.isArray(operation.security), `${name} declares its security, [] when public`);
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      t.ok(response.description && response.description !== 'Default Response', `${name} ${status} has a real description`);
      if (status === '304') continue;
      t.ok(
        Object.values(response.content ?? {}).some((c) => c.schema),
        `${name} ${status} has a schema`,
      );
    }
    // GET /api/v2/tokens/current takes any valid token: it has no scope to lack, so no 403.
    const anyToken = operation.operationId === 'getCurrentToken';
    if (operation.security?.length) t.ok(operation.responses?.['401'] && (anyToken || operation.responses?.['403']), `${name} documents 401 and 403`);
    if (anyToken) t.notOk(operation.responses?.['403'], `${name} documents no 403: it never answers one`);
    t.ok(
      Object.keys(operation.responses ?? {}).some((s) => s.startsWith('4')),
      `${name} documents a 4xx`,
    );
  }
  t.ok(ids.has('createToken') && ids.has('getReadiness'));
  t.same(
    operations.filter((o) => o.operation.security?.length === 0).map((o) => o.operation.operationId),
    ['getMetrics', 'getHealth', 'getReadiness', 'receiveForgeWebhook'],
    'only health, metrics and webhooks are public',
  );
  t.ok(document.servers?.length, 'a server is declared');
});

t.test('every operation has examples: its request body, and its 2xx answers (a zip excepted)', async (t) => {
  for (const { name, operation } of operations) {
    const body = operation.requestBody;
    if (body) t.ok(hasExample(body.content?.['application/json']), `${name}: its request body has an example`);
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (!status.startsWith('2')) continue;
      for (const [type, media] of Object.entries(response.content ?? {})) {
        if (type === 'application/zip') continue;
        t.ok(hasExample(media), `${name} ${status} ${type} has an example`);
      }
    }
  }
});

t.test('errors are problem documents, each status with the codes of the catalog it can send, each code with its example', async (t) => {
  const examples = document.components.examples;
  for (const { name, operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (Number(status) < 400) continue;
      t.same(Object.keys(response.content ?? {}), ['application/problem+json'], `${name} ${status} is a problem document`);
      const media = response.content!['application/problem+json']!;
      t.equal(media.schema?.$ref, '#/components/schemas/Problem', `${name} ${status} is typed by Problem`);
      const codes = Object.values(media.examples ?? {}).map((e) => e.$ref?.replace('#/components/examples/', ''));
      t.ok(codes.length > 0, `${name} ${status} names its codes`);
      for (const code of codes) {
        t.equal(ERROR_CODES[code as ErrorCode]?.[0], Number(status), `${name} ${status}: ${code} is a catalog code of that status`);
        t.ok(examples[code!], `${name} ${status}: ${code} has its example`);
        t.match(response.description, `\`${code}\``, `${name} ${status}: the description names ${code}`);
      }
    }
  }
  for (const [code, example] of Object.entries(examples)) {
    t.match(example.value, { success: false, code, status: ERROR_CODES[code as ErrorCode][0], request_id: String }, `the example of ${code}`);
  }
});

t.test('answer headers: x-request-id on every answer, Retry-After on every 503, ETag where routes send one', async (t) => {
  for (const { name, operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      t.equal(response.headers?.['x-request-id']?.$ref, '#/components/headers/RequestId', `${name} ${status} declares x-request-id`);
      if (status === '503') t.equal(response.headers?.['Retry-After']?.$ref, '#/components/headers/RetryAfter', `${name} 503 declares Retry-After`);
    }
  }
  for (const id of ['getManifest', 'downloadReleaseArtifact', 'getInstanceReleases']) {
    const responses = byId(id).responses!;
    t.ok(responses['200']?.headers?.ETag && responses['304']?.headers?.ETag, `${id}: 200 and 304 declare ETag`);
  }
  t.ok(byId('downloadReleaseArtifact').responses!['200']!.headers!['Content-Disposition'], 'the zip declares its file name');

  const ctx = await buildTestApp(t);
  const health = await ctx.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'probe-7' } });
  t.equal(health.headers['x-request-id'], 'probe-7', 'the server echoes a sane x-request-id');
});

t.test('conditional requests: If-None-Match where a 304 is documented, If-Match on the writes that honour it, 304 without a body', async (t) => {
  const header = (operation: Operation, name: string) => operation.parameters?.find((p) => p.in === 'header' && p.name === name);
  const with304 = operations.filter((o) => o.operation.responses?.['304']);
  t.same(with304.map((o) => o.operation.operationId).sort(), ['downloadReleaseArtifact', 'getInstanceReleases', 'getManifest']);
  for (const { name, operation } of with304) {
    t.notOk(operation.responses!['304']!.content, `${name} 304 has no content`);
    t.equal(header(operation, 'If-None-Match')?.required, false, `${name} takes an optional If-None-Match`);
  }
  const withIfMatch = operations.filter((o) => header(o.operation, 'If-Match'));
  t.same(withIfMatch.map((o) => o.operation.operationId).sort(), [
    'deleteManifest',
    'deleteManifestApp',
    'deleteManifestElement',
    'publish',
    'setManifest',
    'setManifestApp',
    'setManifestElement',
  ]);

  // The server agrees: each of them reads If-Match (a value that is no commit is 400 naming the
  // header), and takes its documented example body as valid (the 400 names nothing else).
  const ctx = await buildTestApp(t);
  for (const { name, path, method, operation } of withIfMatch) {
    const res = await ctx.app.inject({
      method: method.toUpperCase() as 'PUT' | 'POST',
      url: fill(path, operation),
      headers: { ...ctx.auth(), 'if-match': '"zzz"' },
      payload: operation.requestBody?.content?.['application/json']?.example as object,
    });
    t.equal(res.statusCode, 400, name);
    t.same(
      res.json().errors?.map((e: { field: string }) => e.field),
      ['headers.if-match'],
      `${name}: only If-Match is refused`,
    );
  }
});

t.test('every request example is a body the route takes', async (t) => {
  const ctx = await buildTestApp(t);
  for (const { name, path, method, operation } of operations) {
    const media = operation.requestBody?.content?.['application/json'];
    if (!media) continue;
    const res = await ctx.app.inject({
      method: method.toUpperCase() as 'PUT' | 'POST' | 'PATCH',
      url: fill(path, operation, { dry_run: 'true' }),
      headers: ctx.auth(),
      payload: media.example as object,
    });
    t.ok(res.statusCode < 500, `${name}: no 5xx (${res.statusCode})`);
    // What the schemas check names `body…`; a service's own checks may still refuse a made-up
    // commit (`base_sha` is no commit of this empty repository).
    const fields: string[] = res.statusCode === 400 ? (res.json().errors ?? []).map((e: { field: string }) => e.field) : [];
    t.same(
      fields.filter((f) => f.startsWith('body')),
      [],
      `${name}: the route's schema takes its example (${res.statusCode} ${res.json().code ?? ''})`,
    );
  }
});

t.test('binary and text answers are typed as such: the zip, the Prometheus metrics', async (t) => {
  const zip = byId('downloadReleaseArtifact').responses!['200']!.content!;
  t.same(Object.keys(zip), ['application/zip']);
  t.same(zip['application/zip']!.schema, { type: 'string', format: 'binary' });
  const metrics = byId('getMetrics').responses!['200']!.content!;
  t.same(Object.keys(metrics), ['text/plain']);
  t.equal(metrics['text/plain']!.schema?.type, 'string');

  const ctx = await buildTestApp(t);
  const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
});

t.test('what a client may leave out is not required: parameters with a default, bodies that may be absent', async (t) => {
  let defaulted = 0;
  for (const { name, operation } of operations) {
    for (const parameter of operation.parameters ?? []) {
      if (parameter.schema?.default === undefined) continue;
      defaulted++;
      t.notOk(parameter.required, `${name}: ${parameter.in} ${parameter.name} has a default, so it is optional`);
    }
    const body = operation.requestBody;
    if (body?.content?.['application/json']?.schema?.anyOf?.some((branch) => branch.type === 'null')) {
      t.equal(body.required, false, `${name}: its body may be absent`);
    }
  }
  t.ok(defaulted >= 17, `the document has parameters with defaults (${defaulted})`);

  // And the server agrees: a write without dry_run, a list without include_revoked.
  const ctx = await buildTestApp(t);
  const tokens = await ctx.app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() });
  t.equal(tokens.statusCode, 200);
});

t.test('/openapi.json and /docs are served', async (t) => {
  const ctx = await buildTestApp(t);
  const doc = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(doc.statusCode, 200);
  t.equal(doc.json().openapi, '3.1.0');
  const docs = await ctx.app.inject({ method: 'GET', url: '/docs/' });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger/i);
});

/** `path` with its parameters filled with values of the shapes they take, and its required query. */
function fill(path: string, operation: Operation, extra: Record<string, string> = {}): string {
  const value = (p: Parameter) => {
    if (p.schema?.enum) return String(p.schema.enum[0]);
    if (p.schema?.format === 'uuid') return '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';
    if (p.schema?.type === 'integer') return '12';
    if (p.name === 'version') return '1.4.2';
    return 'prod';
  };
  let url = path;
  const query = new URLSearchParams();
  for (const p of operation.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, value(p));
    if (p.in === 'query' && (p.required || (p.name in extra && extra[p.name] !== undefined))) query.set(p.name, extra[p.name] ?? value(p));
  }
  return query.size > 0 ? `${url}?${query}` : url;
}
