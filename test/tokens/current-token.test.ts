// GET /api/v2/tokens/current: any valid token reads itself (the same Token as GET /tokens/{id}, never
// the secret), whatever its scopes or instance; without a valid token, 401. The path is not taken for
// an id by GET /tokens/{id}.
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { manifestName } from '../helpers/repo-fixture.js';

t.test('a token of any scope reads itself; 401 otherwise; `current` is not an id', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const created = await app.inject({
    method: 'POST',
    url: '/api/v2/tokens',
    headers: ctx.auth(),
    payload: { name: 'dashboard', scopes: ['source_control:releases_read'], expires_at: '2099-01-01T00:00:00Z' },
  });
  t.equal(created.statusCode, 201, created.body);
  const { token, ...view } = created.json().data as { token: string; id: string };

  const current = await app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers: ctx.auth(token) });
  t.equal(current.statusCode, 200, current.body);
  const byId = await app.inject({ method: 'GET', url: `/api/v2/tokens/${view.id}`, headers: ctx.auth() });
  t.same(current.json().data, { ...byId.json().data, last_used_at: current.json().data.last_used_at }, 'the Token GET /tokens/{id} answers');
  t.match(current.json().data, {
    id: view.id,
    name: 'dashboard',
    scopes: ['source_control:releases_read'],
    expires_at: '2099-01-01T00:00:00.000Z',
    instance: null,
  });
  t.notMatch(current.body, token, 'never the secret');
  t.notOk('token' in current.json().data);

  const admin = await app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers: ctx.auth() });
  t.match(admin.json().data, { scopes: ['admin'] }, 'each token reads itself');
  t.not(admin.json().data.id, view.id);

  const instance = manifestName('eu');
  t.equal((await app.inject({ method: 'POST', url: '/api/v2/source_control/instances', headers: ctx.auth(), payload: { name: instance } })).statusCode, 201);
  const bound = await app.inject({
    method: 'POST',
    url: '/api/v2/tokens',
    headers: ctx.auth(),
    payload: { name: 'eu-agent', scopes: ['source_control:read'], instance },
  });
  t.equal(bound.statusCode, 201, bound.body);
  const own = await app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers: ctx.auth(bound.json().data.token) });
  t.equal(own.statusCode, 200, 'a token bound to an instance reads itself too');
  t.equal(own.json().data.instance, instance);

  for (const headers of [{}, { authorization: 'Bearer mir_unknown' }, { authorization: 'Basic abc' }]) {
    const refused = await app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers });
    t.equal(refused.statusCode, 401, JSON.stringify(headers));
    t.equal(refused.json().code, 'unauthorized');
  }
  await app.inject({ method: 'DELETE', url: `/api/v2/tokens/${view.id}`, headers: ctx.auth() });
  t.equal((await app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers: ctx.auth(token) })).statusCode, 401, 'revoked: 401');

  // Not captured by /tokens/{id}: a non-admin gets itself, not a 403 for the admin route or a 400 for a bad uuid.
  const malformed = await app.inject({ method: 'GET', url: '/api/v2/tokens/currently', headers: ctx.auth() });
  t.equal(malformed.statusCode, 400, '/tokens/{id} still validates its id');
  t.match(malformed.json(), { code: 'validation_failed', errors: [{ field: 'params.id' }] });
});
