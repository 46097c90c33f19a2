import t from 'tap';
import { AppError, errors } from '../../src/errors.js';
import { buildTestApp } from '../helpers/app.js';

const PROBLEM = /^application\/problem\+json/;

t.test('errors are RFC 9457 problems with Retool members', async (t) => {
  const ctx = await buildTestApp(t, { env: { MIR_BODY_LIMIT_BYTES: '2048' }, captureLogs: true });
  const { app } = ctx;
  // Test-only routes, added before the app is ready, to exercise the handler's other branches.
  app.get('/test/boom', async () => {
    throw new Error('secret internal detail: password=hunter2');
  });
  app.get('/test/conflict', async () => {
    throw new AppError('branch_exists', 'It is taken', { thing: 'x' });
  });
  app.get('/test/away', async () => {
    throw errors.gitUnavailable('connection refused');
  });
  app.get('/test/not-ready', async () => {
    throw errors.notReady({ database: 'connection refused' });
  });
  await app.ready();

  await t.test('401 without a token', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/v2/tokens' });
    t.equal(res.statusCode, 401);
    t.match(res.headers['content-type'], PROBLEM);
    t.match(res.json(), { success: false, code: 'unauthorized', status: 401, title: 'Unauthorized', message: String });
  });

  await t.test('401 with a malformed or unknown token', async (t) => {
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer mir_doesnotexist', 'Bearer not-a-mir-token']) {
      const res = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: { authorization } });
      t.equal(res.statusCode, 401, authorization);
      t.equal(res.json().code, 'unauthorized');
    }
  });

  await t.test('403 when the scope is missing', async (t) => {
    const token = await ctx.tokenFor('source_control:releases_write');
    const res = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(token) });
    t.equal(res.statusCode, 403);
    t.match(res.headers['content-type'], PROBLEM);
    t.match(res.json(), { success: false, code: 'forbidden', status: 403, required_scope: 'admin' });
  });

  await t.test('404 for unknown routes, same shape', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/v2/nothing/here?x=1' });
    t.equal(res.statusCode, 404);
    t.match(res.headers['content-type'], PROBLEM);
    t.match(res.json(), { success: false, code: 'route_not_found', status: 404, message: 'No route GET /api/v2/nothing/here' });
  });

  await t.test('400 lists every bad field, unknown fields included', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2/tokens',
      headers: ctx.auth(),
      payload: { name: '', scopes: ['nope'], surprise: true },
    });
    t.equal(res.statusCode, 400);
    t.match(res.headers['content-type'], PROBLEM);
    const body = res.json();
    t.equal(body.code, 'validation_failed');
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    t.same(fields, ['body.name', 'body.scopes[0]', 'body.surprise']);
    t.match(body.message, /body\.surprise is not a known field/);
  });

  await t.test('400 for a missing required field, a wrong type and bad JSON', async (t) => {
    const missing = await app.inject({ method: 'POST', url: '/api/v2/tokens', headers: ctx.auth(), payload: { name: 'x' } });
    t.equal(missing.statusCode, 400);
    t.same(missing.json().errors, [{ field: 'body.scopes', message: 'is required' }]);

    const wrongType = await app.inject({ method: 'POST', url: '/api/v2/tokens', headers: ctx.auth(), payload: { name: 5, scopes: ['admin'] } });
    t.equal(wrongType.statusCode, 400, 'bodies are not coerced');
    t.equal(wrongType.json().errors[0].field, 'body.name');

    const badJson = await app.inject({
      method: 'POST',
      url: '/api/v2/tokens',
      headers: { ...ctx.auth(), 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    t.equal(badJson.statusCode, 400);
    t.equal(badJson.json().code, 'invalid_json');

    const badQuery = await app.inject({ method: 'GET', url: '/api/v2/tokens?include_revoked=maybe', headers: ctx.auth() });
    t.equal(badQuery.statusCode, 400);
    t.equal(badQuery.json().errors[0].field, 'querystring.include_revoked');

    const badParam = await app.inject({ method: 'GET', url: '/api/v2/tokens/not-a-uuid', headers: ctx.auth() });
    t.equal(badParam.statusCode, 400);
    t.equal(badParam.json().errors[0].field, 'params.id');
  });

  await t.test('400 writes nothing', async (t) => {
    const before = (await ctx.app.services.tokens.list({ includeRevoked: true })).length;
    await app.inject({ method: 'POST', url: '/api/v2/tokens', headers: ctx.auth(), payload: { name: 'ok', scopes: ['admin'], extra: 1 } });
    t.equal((await ctx.app.services.tokens.list({ includeRevoked: true })).length, before);
  });

  await t.test('413 over the body limit', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2/tokens',
      headers: ctx.auth(),
      payload: { name: 'x'.repeat(5000), scopes: ['admin'] },
    });
    t.equal(res.statusCode, 413);
    t.match(res.headers['content-type'], PROBLEM);
    t.match(res.json(), { code: 'payload_too_large', status: 413, limit_bytes: 2048 });
  });

  await t.test('415 for a body that is not JSON', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v2/tokens',
      headers: { ...ctx.auth(), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    t.equal(res.statusCode, 415);
    t.equal(res.json().code, 'unsupported_media_type');
  });

  await t.test('catalog errors keep their status, code and members', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/test/conflict' });
    t.equal(res.statusCode, 409);
    t.match(res.json(), { success: false, code: 'branch_exists', status: 409, title: 'Conflict', message: 'It is taken', thing: 'x' });
  });

  await t.test('500 hides internals and logs them under the request id', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/test/boom', headers: { 'x-request-id': 'req-boom-1' } });
    t.equal(res.statusCode, 500);
    t.match(res.headers['content-type'], PROBLEM);
    t.equal(res.headers['x-request-id'], 'req-boom-1');
    const body = res.json();
    t.match(body, { success: false, code: 'internal_error', status: 500, request_id: 'req-boom-1' });
    t.notMatch(res.body, /hunter2|secret internal/);
    const logged = ctx.logs.find((line) => line.reqId === 'req-boom-1' && line.level === 50);
    t.ok(logged, 'the error is logged with the request id');
    t.match(JSON.stringify(logged), /secret internal detail/);
  });

  await t.test('a dependency away is a warning, a readiness refusal no alarm at all', async (t) => {
    const away = await app.inject({ method: 'GET', url: '/test/away', headers: { 'x-request-id': 'req-away-1' } });
    t.equal(away.statusCode, 503);
    t.equal(away.headers['retry-after'], '5');
    const logged = ctx.logs.filter((line) => line.reqId === 'req-away-1' && (line.level as number) >= 40);
    t.same(
      logged.map((line) => line.level),
      [40],
      'logged once, as a warning',
    );
    t.match(JSON.stringify(logged[0]), /connection refused/, 'with its cause');

    const notReady = await app.inject({ method: 'GET', url: '/test/not-ready', headers: { 'x-request-id': 'req-not-ready-1' } });
    t.equal(notReady.statusCode, 503);
    t.same(
      ctx.logs.filter((line) => line.reqId === 'req-not-ready-1' && (line.level as number) >= 40),
      [],
      'a probe answered 503 logs nothing at warn or above',
    );
  });
});
