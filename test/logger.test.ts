import t from 'tap';
import { buildTestApp } from './helpers/app.js';

t.test('Authorization headers and token fields never reach the log', async (t) => {
  const ctx = await buildTestApp(t, { captureLogs: true });
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/api/v2/tokens',
    headers: ctx.auth(),
    payload: { name: 'logged', scopes: ['source_control:read'] },
  });
  t.equal(res.statusCode, 201);
  const created = res.json().data.token as string;
  ctx.app.log.info({ token: created, nested: { token: created }, config: { git: { token: 'git-secret-1' } } }, 'something with secrets');

  const text = JSON.stringify(ctx.logs);
  const incoming = ctx.logs.find((line) => line.msg === 'incoming request') as { req: { headers: Record<string, string> } } | undefined;
  t.ok(incoming, 'requests are logged with their headers');
  t.equal(incoming?.req.headers.authorization, '[Redacted]');
  t.notOk(text.includes(ctx.adminToken), 'the bearer token is not in the log');
  t.notOk(text.includes(created), 'a token field is not in the log');
  t.notOk(text.includes('git-secret-1'), 'the git token is not in the log');
  const line = ctx.logs.find((entry) => entry.msg === 'something with secrets') as Record<string, unknown>;
  t.match(line, { token: '[Redacted]', nested: { token: '[Redacted]' }, config: { git: { token: '[Redacted]' } } });
});
