import t from 'tap';
import { buildTestApp } from '../helpers/app.js';

t.test('health, readiness and metrics', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;

  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });

  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', checks: { database: 'ok', git: 'ok' } });

  await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() });
  await app.inject({ method: 'GET', url: '/api/v2/tokens' });
  await app.inject({ method: 'GET', url: '/no/such/route/123' });
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain/);
  t.match(metrics.body, /http_requests_total\{method="GET",route="\/api\/v2\/tokens",status="200"\} 1/);
  t.match(metrics.body, /http_requests_total\{method="GET",route="\/api\/v2\/tokens",status="401"\} 1/);
  t.match(metrics.body, /http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  t.match(metrics.body, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v2\/tokens"\}/);
  t.notMatch(metrics.body, /no\/such\/route/, 'raw URLs never become labels');

  // The token was verified once (a miss, then cached); a second request finds it.
  t.match(metrics.body, /mir_cache_misses_total\{cache="tokens"\} 1\n/);
  t.match(metrics.body, /mir_cache_hits_total\{cache="tokens"\} 0\n/);
  t.match(metrics.body, /mir_cache_entries\{cache="tokens"\} 1\n/);
  t.match(metrics.body, /mir_cache_limit_entries\{cache="tokens"\} 10000\n/);
  for (const cache of ['artifacts', 'instance_bindings', 'instance_answers']) t.match(metrics.body, new RegExp(`mir_cache_entries\\{cache="${cache}"\\} 0\n`));
  // The git object reader's caches: two bounded by bytes (no entry limit), one by entries.
  t.match(metrics.body, /mir_cache_limit_bytes\{cache="git_delta_bases"\} 33554432\n/);
  t.match(metrics.body, /mir_cache_limit_bytes\{cache="git_primed_objects"\} 67108864\n/);
  t.match(metrics.body, /mir_cache_limit_entries\{cache="git_object_sizes"\} 2000000\n/);
  t.notMatch(metrics.body, /mir_cache_limit_entries\{cache="git_delta_bases"\}/, 'no entry limit where there is none');
  for (const cache of ['git_delta_bases', 'git_primed_objects', 'git_object_sizes']) {
    t.match(metrics.body, new RegExp(`mir_cache_entries\\{cache="${cache}"\\} \\d+\n`));
    t.match(metrics.body, new RegExp(`mir_cache_misses_total\\{cache="${cache}"\\} \\d+\n`));
  }
  t.match(metrics.body, /mir_cache_bytes\{cache="git_delta_bases"\} \d+\n/);
  await app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() });
  const again = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(again, /mir_cache_hits_total\{cache="tokens"\} 1\n/, 'a scrape reports what happened since the last one, once');
  t.match(again, /mir_cache_misses_total\{cache="tokens"\} 1\n/);

  await t.test('readiness fails with a reason when the database is gone', async (t) => {
    await ctx.database.handle.close();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(res.statusCode, 503);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    t.match(res.json(), { code: 'not_ready', checks: { database: String } });
  });
});
