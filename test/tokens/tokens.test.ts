import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';

t.test('token lifecycle over HTTP', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;

  const created = await app.inject({
    method: 'POST',
    url: '/api/v2/tokens',
    headers: ctx.auth(),
    payload: { name: 'release-bot', email: 'bot@example.com', scopes: ['source_control:releases_write', 'source_control:releases_write'] },
  });
  t.equal(created.statusCode, 201);
  const token = created.json().data;
  t.match(token, { name: 'release-bot', email: 'bot@example.com', scopes: ['source_control:releases_write'], revoked_at: null });
  t.match(token.token, /^mir_[A-Za-z0-9_-]{43}$/, 'the token is returned once, at creation');
  t.equal(token.token_prefix, token.token.slice(0, 10));

  await t.test('the token is never listed or stored in clear', async (t) => {
    const list = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() });
    t.equal(list.statusCode, 200);
    t.equal(list.json().success, true);
    t.notMatch(list.body, token.token);
    t.ok(list.json().data.tokens.some((row: { id: string }) => row.id === token.id));
    const rows = await ctx.database.handle.db.selectFrom('api_tokens').selectAll().execute();
    t.notMatch(JSON.stringify(rows), token.token);
    const one = await app.inject({ method: 'GET', url: `/api/v2/tokens/${token.id}`, headers: ctx.auth() });
    t.equal(one.statusCode, 200);
    t.equal(one.json().data.id, token.id);
    t.notOk('token' in one.json().data);
  });

  await t.test('the new token authenticates with its scopes; write implies read', async (t) => {
    const principal = await app.services.tokens.authenticate(token.token);
    t.same(principal?.scopes, ['source_control:releases_write']);
    const denied = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(token.token) });
    t.equal(denied.statusCode, 403);
  });

  await t.test('revoking: 200 once, then the token gets 401; 409 on a second revoke', async (t) => {
    const admin2 = (
      await app.inject({ method: 'POST', url: '/api/v2/tokens', headers: ctx.auth(), payload: { name: 'second-admin', scopes: ['admin'] } })
    ).json().data;
    const before = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(admin2.token) });
    t.equal(before.statusCode, 200);
    const revoked = await app.inject({ method: 'DELETE', url: `/api/v2/tokens/${admin2.id}`, headers: ctx.auth() });
    t.equal(revoked.statusCode, 200);
    t.type(revoked.json().data.revoked_at, 'string');
    const after = await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(admin2.token) });
    t.equal(after.statusCode, 401);
    t.equal(after.json().code, 'unauthorized');
    const again = await app.inject({ method: 'DELETE', url: `/api/v2/tokens/${admin2.id}`, headers: ctx.auth() });
    t.equal(again.statusCode, 409);
    t.equal(again.json().code, 'token_revoked');
    const active = (await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() })).json().data.tokens;
    t.notOk(
      active.some((row: { id: string }) => row.id === admin2.id),
      'revoked tokens are hidden by default',
    );
    const all = (await app.inject({ method: 'GET', url: '/api/v2/tokens?include_revoked=true', headers: ctx.auth() })).json().data.tokens;
    t.ok(all.some((row: { id: string }) => row.id === admin2.id));
  });

  await t.test('404 for an unknown token id', async (t) => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url: `/api/v2/tokens/${id}`, headers: ctx.auth() });
      t.equal(res.statusCode, 404);
      t.equal(res.json().code, 'token_not_found');
    }
  });

  await t.test('expired tokens get 401; an expiry in the past is refused', async (t) => {
    const past = await app.inject({
      method: 'POST',
      url: '/api/v2/tokens',
      headers: ctx.auth(),
      payload: { name: 'old', scopes: ['admin'], expires_at: '2001-01-01T00:00:00Z' },
    });
    t.equal(past.statusCode, 400);
    t.equal(past.json().errors[0].field, 'body.expires_at');
    const soon = (
      await app.inject({
        method: 'POST',
        url: '/api/v2/tokens',
        headers: ctx.auth(),
        payload: { name: 'brief', scopes: ['admin'], expires_at: new Date(Date.now() + 1500).toISOString() },
      })
    ).json().data;
    t.equal((await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(soon.token) })).statusCode, 200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    t.equal((await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(soon.token) })).statusCode, 401);
  });

  await t.test('every token write is audited', async (t) => {
    const events = await app.services.audit.list({ target: `token:${token.id}` });
    t.same(
      events.map((e) => e.action),
      ['token.create'],
    );
    t.equal(events[0]?.actor, 'test-admin');
    t.match(events[0]?.details, { name: 'release-bot', scopes: ['source_control:releases_write'] });
    const audit = await app.inject({ method: 'GET', url: '/api/v2/audit_events?action=token.revoke', headers: ctx.auth() });
    t.equal(audit.statusCode, 200);
    t.ok(audit.json().data.events.length >= 1);
    t.ok(audit.json().data.events.every((e: { action: string }) => e.action === 'token.revoke'));
  });
});

t.test('first start writes one admin token to <data dir>/admin-token, mode 0600', async (t) => {
  const ctx = await buildTestApp(t);
  // buildTestApp created a token already: the database is not empty, so nothing is written.
  t.equal(await ctx.app.services.tokens.bootstrapAdmin(ctx.config.dataDir), null);

  await ctx.database.handle.db.updateTable('api_tokens').set({ revoked_at: new Date() }).execute();
  const [first, second] = await Promise.all([
    ctx.app.services.tokens.bootstrapAdmin(ctx.config.dataDir),
    ctx.app.services.tokens.bootstrapAdmin(ctx.config.dataDir),
  ]);
  const file = path.join(ctx.config.dataDir, 'admin-token');
  t.same([first, second].filter(Boolean), [file], 'exactly one of two concurrent starts creates it');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const token = (await readFile(file, 'utf8')).trim();
  const res = await ctx.app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth(token) });
  t.equal(res.statusCode, 200);
  t.equal(res.json().success, true);
});
