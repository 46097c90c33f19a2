// Hostile input refused before anything is written: strings PostgreSQL or git cannot store,
// numbers that are not canonical decimals, bodies where a route takes none, a byte-order mark, a
// charset other than UTF-8, and a manifest replacement that would empty it by omission.
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';

t.test('strings that cannot be stored are 400 naming the field, and change nothing', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const name = manifestName('dev');
  const call = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: string) =>
    app.inject({ method, url: `${API}/instances${url}`, headers: { ...ctx.auth(), 'content-type': 'application/json' }, ...(payload ? { payload } : {}) });
  t.equal((await call('POST', '', JSON.stringify({ name, description: 'before' }))).statusCode, 201);
  const auditBefore = (await app.services.audit.list({ target: `instance:${name}` })).length;

  for (const [label, payload] of [
    ['a lone surrogate', '{"description":"\\ud800"}'],
    ['a NUL', '{"description":"a\\u0000b"}'],
  ] as const) {
    const answer = await call('PATCH', `/${name}`, payload);
    t.equal(answer.statusCode, 400, label);
    t.match(answer.headers['content-type'], /^application\/problem\+json/);
    t.match(answer.json(), { code: 'validation_failed', errors: [{ field: 'body.description' }] }, label);
  }
  const created = await call('POST', '', JSON.stringify({ name: manifestName('x'), description: 'a\u0000b' }));
  t.equal(created.statusCode, 400);
  t.equal(created.json().errors[0].field, 'body.description');
  const key = await call('PATCH', `/${name}`, '{"a\\u0000":1}');
  t.equal(key.statusCode, 400, 'a key with a NUL too');

  t.equal((await call('GET', `/${name}`)).json().data.instance.description, 'before', 'the description is unchanged');
  t.equal((await app.services.audit.list({ target: `instance:${name}` })).length, auditBefore, 'no audit event');
  t.equal((await call('GET', '')).json().data.instances.length, 1, 'no instance was created');
});

t.test('numbers in the path and query are canonical decimals or 400', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [name]: manifestYaml(name) } });
  const opened = await app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release: '1.0.0' },
  });
  const number = opened.json().data.pull_request.number as number;
  t.equal(number, 1);

  for (const form of ['0x1', '1.0', '+1', '01', '1e0', '%201', '1%20']) {
    const got = await app.inject({ method: 'GET', url: `${API}/pull_requests/${form}`, headers: ctx.auth() });
    t.equal(got.statusCode, 400, `GET /pull_requests/${form}`);
    t.match(got.json(), { code: 'validation_failed', errors: [{ field: 'params.number' }] });
  }
  const merged = await app.inject({ method: 'POST', url: `${API}/pull_requests/0x1/merge`, headers: ctx.auth() });
  t.equal(merged.statusCode, 400, 'POST /pull_requests/0x1/merge is refused');
  t.equal(
    (await app.inject({ method: 'GET', url: `${API}/pull_requests/1`, headers: ctx.auth() })).json().data.pull_request.state,
    'open',
    'and merged nothing',
  );
  t.equal((await app.inject({ method: 'GET', url: `${API}/pull_requests?limit=0x10`, headers: ctx.auth() })).statusCode, 400, 'query numbers too');
  t.equal((await app.inject({ method: 'GET', url: `${API}/pull_requests?limit=10`, headers: ctx.auth() })).statusCode, 200);
});

t.test('bodies: none where none is taken, UTF-8 JSON without a byte-order mark', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [name]: manifestYaml(name) } });
  const put = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'PUT', url: `${API}/manifests/${name}/${a.uuid}?elementType=PAGE`, headers: { ...ctx.auth(), 'content-type': contentType }, payload });

  const bom = await put('\ufeff{"release":"1.0.0"}');
  t.equal(bom.statusCode, 400);
  t.equal(bom.json().code, 'invalid_json');
  const utf16 = await put('{"release":"1.0.0"}', 'application/json; charset=utf-16');
  t.equal(utf16.statusCode, 415);
  t.equal(utf16.json().code, 'unsupported_media_type');
  t.equal((await app.services.pullRequests.list({})).length, 0, 'neither opened a pull request');
  t.equal((await put('{"release":"1.0.0"}', 'application/json; charset=UTF-8')).statusCode, 200, 'charset=UTF-8 is fine');

  const merge = (payload?: string) =>
    app.inject({
      method: 'POST',
      url: `${API}/pull_requests/1/merge`,
      headers: { ...ctx.auth(), ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { payload } : {}),
    });
  const withBody = await merge('{"force": true}');
  t.equal(withBody.statusCode, 400, 'a body on a route that takes none');
  t.match(withBody.json(), { code: 'validation_failed', errors: [{ field: 'body' }] });
  t.equal((await app.services.pullRequests.get(1)).state, 'open', 'and nothing merged');
  t.equal((await merge('{}')).statusCode, 200, 'an empty object is allowed');
});

t.test('replacing a manifest with {} is 400 naming body.manifest; an explicit empty manifest works', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const a = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [name]: manifestYaml(name, { apps: [[a.uuid, '1.0.0']] }) } });
  const replace = (payload: object) => app.inject({ method: 'PUT', url: `${API}/manifests/${name}`, headers: ctx.auth(), payload });
  const omitted = await replace({});
  t.equal(omitted.statusCode, 400);
  t.match(omitted.json(), { code: 'validation_failed', errors: [{ field: 'body.manifest' }] });
  t.equal((await app.services.pullRequests.list({})).length, 0, 'nothing proposed');
  const emptied = await replace({ manifest: { apps: [], workflows: [] } });
  t.equal(emptied.statusCode, 200);
  t.match(emptied.json().data.pull_request.title, /Replace manifest/);
});
