// src/http/sliced-json.ts must write exactly what fast-json-stringify writes for the same schema and
// value (the answers Fastify would send), or throw where it throws: checked on hand-made schemas for
// each of fast-json-stringify's object rules, on generated pull requests against the real schemas,
// and through a route.
import fc from 'fast-check';
import fastJsonStringify, { type Schema } from 'fast-json-stringify';
import Fastify from 'fastify';
import t from 'tap';
import Type, { type TSchema } from 'typebox';
import { slicedSerializer, sendInSlices } from '../../src/http/sliced-json.js';
import { envelope } from '../../src/http/schemas.js';
import { pullRequestSchemas } from '../../src/pull-requests/pull-requests.schemas.js';

const byId = (schemas: readonly TSchema[]) => Object.fromEntries(schemas.map((s) => [(s as { $id: string }).$id, s]));

/** Our answer next to fast-json-stringify's; `threw` where one throws (the messages differ: both name the value). */
async function both(schema: TSchema, externals: readonly TSchema[], value: unknown): Promise<[string, string]> {
  const reference = fastJsonStringify(schema as unknown as Schema, { schema: byId(externals) as Record<string, Schema> });
  const sliced = slicedSerializer(schema, byId(externals));
  const run = async (f: () => string | Promise<string>) => {
    try {
      return await f();
    } catch {
      return 'threw';
    }
  };
  return [await run(async () => (await sliced(value)).toString('utf8')), await run(() => reference(value))];
}

const MERGE_ANSWER = envelope(Type.Object({ pull_request: Type.Ref('PullRequest'), commit_sha: Type.String(), policy: Type.Array(Type.Ref('Verdict')) }), {
  description: 'merge',
  example: undefined as never,
});
const LIST_ANSWER = envelope(Type.Object({ pull_requests: Type.Array(Type.Ref('PullRequest')) }), { description: 'list', example: undefined as never });

const at = fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'é', '😀', '\u2028', '"\\', '\ud800', '</script>'));
const entry = fc.record({ element_type: fc.constantFrom('PAGE', 'WORKFLOW'), element_uuid: fc.uuid(), release: text });
const change = fc.record({ element_type: text, element_uuid: fc.uuid(), from: text, to: text });
// Rows read back from jsonb come with their keys in jsonb's order, and may carry keys no schema names.
const conflict = fc.record(
  { found: fc.option(text), reason: text, target: text, wanted: fc.option(text), expected: fc.option(text), extra: text },
  { requiredKeys: ['reason', 'target', 'found', 'wanted', 'expected'] },
);
const operation = fc.dictionary(text, fc.jsonValue(), { maxKeys: 5 });
const pullRequest = fc.record({
  operations: fc.array(operation, { maxLength: 40 }),
  number: fc.integer({ min: 1 }),
  url: text,
  provider: text,
  external_number: fc.option(fc.integer()),
  kind: fc.constantFrom('manifest', 'release', 'publish', 'hotfix_release', 'promotion', 'rollback'),
  title: text,
  body: text,
  state: fc.constantFrom('open', 'merged', 'closed', 'conflicted'),
  source_branch: text,
  target_branch: text,
  base_commit: text,
  head_commit: text,
  merge_commit: fc.option(text),
  author: text,
  merged_by: fc.option(text),
  created_at: at,
  updated_at: at,
  merged_at: fc.option(at),
  closed_at: fc.constant(null),
  conflicts: fc.option(fc.array(conflict, { maxLength: 4 })),
  manifests: fc.array(
    fc.record({
      manifest: text,
      created: fc.boolean(),
      deleted: fc.boolean(),
      added: fc.array(entry, { maxLength: 30 }),
      changed: fc.array(change, { maxLength: 30 }),
      removed: fc.array(entry, { maxLength: 30 }),
    }),
    { maxLength: 3 },
  ),
  artifacts: fc.array(fc.record({ element_type: text, element_uuid: fc.uuid(), version: text, sha256: text, size: fc.nat() }, { noNullPrototype: true }), {
    maxLength: 10,
  }),
});
const verdict = fc.record({
  gate: text,
  manifest: text,
  rule: text,
  status: fc.constantFrom('pass', 'blocked', 'overridden'),
  reason: text,
  until: fc.option(at),
});

t.test('generated pull requests: the merge and list answers as fast-json-stringify writes them', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(pullRequest, fc.array(verdict, { maxLength: 3 }), fc.array(pullRequest, { maxLength: 3 }), async (pr, policy, list) => {
      runs++;
      const [merge, mergeReference] = await both(MERGE_ANSWER, pullRequestSchemas, { success: true, data: { pull_request: pr, commit_sha: 'c0ffee', policy } });
      const [listed, listReference] = await both(LIST_ANSWER, pullRequestSchemas, { success: true, data: { pull_requests: list } });
      return merge === mergeReference && listed === listReference && merge !== 'threw';
    }),
    { numRuns: 150 },
  );
  t.equal(runs >= 150, true);
});

t.test('a pull request of 14,000 entries: many slices, the same bytes', async (t) => {
  const changed = Array.from({ length: 14_000 }, (_, i) => ({ element_type: 'PAGE', element_uuid: `app-${i}`, from: '1.0.0', to: '1.0.1' }));
  const pr = {
    number: 7,
    url: 'http://mir/pull/7',
    provider: 'builtin',
    external_number: null,
    kind: 'manifest',
    title: 'All of prod',
    body: 'Every release changed',
    state: 'merged',
    source_branch: 'mir/manifest/prod/x',
    target_branch: 'main',
    base_commit: 'a'.repeat(40),
    head_commit: 'b'.repeat(40),
    merge_commit: 'c'.repeat(40),
    author: 'grace',
    merged_by: 'grace',
    created_at: '2026-12-04T00:00:00.000Z',
    updated_at: '2026-12-04T00:00:00.000Z',
    merged_at: '2026-12-04T00:00:00.000Z',
    closed_at: null,
    conflicts: null,
    manifests: [{ manifest: 'prod', created: false, deleted: false, added: [], changed, removed: [] }],
    artifacts: [],
    operations: changed.map((c) => ({ op: 'set_entry', manifest: 'prod', ...c })),
  };
  const [sliced, reference] = await both(MERGE_ANSWER, pullRequestSchemas, {
    success: true,
    data: { pull_request: pr, commit_sha: 'c'.repeat(40), policy: [] },
  });
  t.ok(reference.length > 2_000_000, `${reference.length} bytes`);
  t.equal(sliced, reference);
});

t.test("fast-json-stringify's object rules", async (t) => {
  const Item = Type.Object({ b: Type.Optional(Type.String()), a: Type.String(), n: Type.Optional(Type.Integer({ default: 3 })) });
  const Holder = Type.Object(
    {
      optional: Type.Optional(Type.Array(Item)),
      items: Type.Array(Item),
      defaulted: Type.Optional(Type.String({ default: 'd' })),
      nothingRequired: Type.Optional(Type.Object({ list: Type.Optional(Type.Array(Item)) })),
      either: Type.Optional(Type.Union([Type.Array(Item), Type.Null()])),
      strings: Type.Optional(Type.Array(Type.String())),
      ref: Type.Optional(Type.Ref('Node')),
    },
    { required: ['items', 'unlisted'] },
  );
  const Node = Type.Object({ name: Type.String(), children: Type.Array(Type.Ref('Node')) }, { $id: 'Node' });
  const cases: [string, unknown][] = [
    ['required first, then the rest in schema order', { optional: [{ b: 'y', a: 'x' }], items: [{ a: 'x', b: 'y' }], unlisted: 1, defaulted: 'e' }],
    ['a default written for a missing property', { items: [{ a: 'x' }], unlisted: 1 }],
    ['properties no schema names are dropped', { items: [{ a: 'x', z: 1 }], unlisted: 1, zz: [1] }],
    ['a required property missing', { items: [{ b: 'y' }], unlisted: 1 }],
    ['a required name with no schema missing', { items: [] }],
    ['a required array missing', { unlisted: 1 }],
    ['only optional properties, some there', { items: [], unlisted: 1, nothingRequired: { list: [{ a: 'l' }] }, strings: [] }],
    ['an object none of whose properties are there', { items: [], unlisted: 1, nothingRequired: {} }],
    ['an array that is null', { items: null, unlisted: 1 }],
    ['a union', { items: [], unlisted: 1, either: [{ a: 'q' }] }],
    ['arrays of strings', { items: [], unlisted: 1, strings: ['a', '"b"'] }],
    ['an object with toJSON', { items: [{ toJSON: () => ({ a: 'j' }) }], unlisted: 1 }],
    ['a value of another type', { items: 'not an array', unlisted: 1 }],
    ['a schema that refers to itself', { items: [], unlisted: 1, ref: { name: 'r', children: [{ name: 'c', children: [] }] } }],
    ['an undefined item', { items: [undefined, { a: 'x' }], unlisted: 1 }],
  ];
  for (const [name, value] of cases) {
    const [sliced, reference] = await both(Holder, [Node], value);
    t.equal(sliced, reference, name);
  }
});

t.test('sendInSlices answers with the route schema of its status code', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  for (const schema of pullRequestSchemas) app.addSchema(schema);
  const Answer = Type.Object({ list: Type.Array(Type.Object({ a: Type.String() })) });
  app.get('/one', { schema: { response: { 200: Answer, 201: Type.Object({ other: Type.String() }) } } }, async (request, reply) =>
    sendInSlices(request, reply, { list: [{ a: 'x', b: 'dropped' }] }),
  );
  app.get('/created', { schema: { response: { 200: Answer, 201: Type.Object({ other: Type.String() }) } } }, async (request, reply) =>
    sendInSlices(request, reply.code(201), { other: 'y', list: [] }),
  );
  app.get('/none', async (request, reply) => sendInSlices(request, reply, {}));
  const one = await app.inject('/one');
  t.equal(one.statusCode, 200);
  t.equal(one.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(one.body, '{"list":[{"a":"x"}]}');
  t.equal((await app.inject('/one')).body, one.body, 'the second answer from the cached serializer');
  t.equal((await app.inject('/created')).body, '{"other":"y"}');
  t.equal((await app.inject('/none')).statusCode, 500, 'a route with no schema for its status is a programming error');
});
