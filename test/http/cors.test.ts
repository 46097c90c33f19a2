// CORS for pages on other origins (MIR_CORS_ORIGINS): preflights on every route without a token,
// answers (errors included) readable by a listed origin, nothing at all for any other origin, and
// nothing when the variable is unset. The same in a real browser: cors-browser.test.ts.
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildTestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const DASHBOARD = 'https://dashboard.example';
const STRANGER = 'https://stranger.example';
const PROBLEM = /^application\/problem\+json/;

const corsHeaders = (res: LightMyRequestResponse) => Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));
const listOf = (header: unknown) =>
  String(header ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');

t.test('with MIR_CORS_ORIGINS: a listed origin may call every route', async (t) => {
  const ctx = await buildTestApp(t, { env: { MIR_CORS_ORIGINS: `http://127.0.0.1:8080, ${DASHBOARD}` } });
  const { app } = ctx;
  const page = element('PAGE', ['1.0.0']);
  const manifest = manifestName('prod');
  const fixture = await seed(ctx.git, { elements: [page], manifests: { [manifest]: manifestYaml(manifest) } });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const writer = await ctx.tokenFor('source_control:releases_write');
  const preflight = (url: string, method: string, origin = DASHBOARD, requestHeaders = 'authorization,if-match,content-type') =>
    app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders },
    });

  await t.test('a preflight on a route with path parameters: 204, no token needed', async (t) => {
    const res = await preflight(`${API}/manifests/${manifest}/${page.uuid}?elementType=PAGE&dry_run=true`, 'PUT');
    t.equal(res.statusCode, 204);
    t.equal(res.body, '');
    t.equal(res.headers['access-control-allow-origin'], DASHBOARD);
    t.ok(listOf(res.headers['access-control-allow-methods']).includes('put'));
    t.same(listOf(res.headers['access-control-allow-headers']), ['authorization', 'content-type', 'if-match', 'if-none-match', 'x-request-id']);
    t.equal(res.headers['access-control-max-age'], '7200');
    t.notOk(res.headers['access-control-allow-credentials'], 'tokens are not cookies: no credentials mode');
    t.ok(listOf(res.headers.vary).includes('origin'), 'caches keep answers per origin');
    t.match(res.headers['x-request-id'], /\S/);
  });

  await t.test('every documented operation answers its preflight', async (t) => {
    const document = app.swagger() as { paths: Record<string, Record<string, unknown>> };
    let operations = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      // Path parameters need not exist nor be valid: a preflight is answered before routing matters.
      const url = path.replace(/\{[^}]+\}/g, '0x10');
      for (const method of Object.keys(methods)) {
        const res = await preflight(url, method.toUpperCase());
        t.equal(res.statusCode, 204, `${method.toUpperCase()} ${path}`);
        t.equal(res.headers['access-control-allow-origin'], DASHBOARD, `${method.toUpperCase()} ${path}`);
        t.ok(listOf(res.headers['access-control-allow-methods']).includes(method), `${method.toUpperCase()} ${path} allowed`);
        operations++;
      }
    }
    t.ok(operations > 30, `${operations} operations`);
  });

  await t.test('the write after the preflight: its answer is readable, with the exposed headers', async (t) => {
    const res = await app.inject({
      method: 'PUT',
      url: `${API}/manifests/${manifest}/${page.uuid}?elementType=PAGE&dry_run=true`,
      headers: { origin: DASHBOARD, ...ctx.auth(writer), 'if-match': `"${fixture.commit}"` },
      payload: { release: '1.0.0' },
    });
    t.equal(res.statusCode, 200, res.body);
    t.equal(res.json().data.dry_run, true);
    t.equal(res.headers['access-control-allow-origin'], DASHBOARD);
    t.same(listOf(res.headers['access-control-expose-headers']), ['etag', 'x-request-id', 'retry-after', 'content-disposition']);
  });

  await t.test('a GET from the listed origin: ETag and x-request-id exposed; 304 too', async (t) => {
    const headers = { origin: DASHBOARD, ...ctx.auth(reader), 'x-request-id': 'dashboard-42' };
    const res = await app.inject({ method: 'GET', url: `${API}/manifests/${manifest}`, headers });
    t.equal(res.statusCode, 200);
    t.equal(res.headers.etag, `"${fixture.commit}"`);
    t.equal(res.headers['x-request-id'], 'dashboard-42');
    t.equal(res.headers['access-control-allow-origin'], DASHBOARD);
    t.ok(listOf(res.headers['access-control-expose-headers']).includes('etag'));
    t.ok(listOf(res.headers['access-control-expose-headers']).includes('x-request-id'));
    const again = await app.inject({
      method: 'GET',
      url: `${API}/manifests/${manifest}`,
      headers: { ...headers, 'if-none-match': res.headers.etag as string },
    });
    t.equal(again.statusCode, 304);
    t.equal(again.headers['access-control-allow-origin'], DASHBOARD);
  });

  await t.test('errors are readable too: 401, 400 from the input checks, 404', async (t) => {
    const unauthenticated = await app.inject({ method: 'GET', url: `${API}/manifests/${manifest}`, headers: { origin: DASHBOARD } });
    t.equal(unauthenticated.statusCode, 401);
    t.match(unauthenticated.headers['content-type'], PROBLEM);
    t.equal(unauthenticated.headers['access-control-allow-origin'], DASHBOARD);
    const refused = await app.inject({ method: 'POST', url: `${API}/pull_requests/0x10/merge`, headers: { origin: DASHBOARD, ...ctx.auth(writer) } });
    t.equal(refused.statusCode, 400, 'the input checks still refuse what the preflight let through');
    t.equal(refused.json().code, 'validation_failed');
    t.equal(refused.headers['access-control-allow-origin'], DASHBOARD);
    const missing = await app.inject({ method: 'GET', url: '/api/v2/nothing/here', headers: { origin: DASHBOARD } });
    t.equal(missing.statusCode, 404);
    t.equal(missing.json().code, 'route_not_found');
    t.equal(missing.headers['access-control-allow-origin'], DASHBOARD);
  });

  await t.test('a preflight asking for a header not allowed is not granted it', async (t) => {
    const res = await preflight(`${API}/manifests`, 'GET', DASHBOARD, 'authorization,x-secret-sauce');
    t.equal(res.statusCode, 204);
    t.notOk(listOf(res.headers['access-control-allow-headers']).includes('x-secret-sauce'), 'the browser then refuses the request');
  });

  await t.test('an origin not listed gets no Access-Control-* header; OPTIONS is a 404 as without CORS', async (t) => {
    const refused = await preflight(`${API}/manifests/${manifest}/${page.uuid}`, 'PUT', STRANGER);
    t.equal(refused.statusCode, 404);
    t.match(refused.headers['content-type'], PROBLEM);
    t.equal(refused.json().code, 'route_not_found');
    t.same(corsHeaders(refused), []);
    for (const origin of ['https://dashboard.example:8443', 'http://dashboard.example', 'https://dashboard.example.evil', 'null']) {
      const res = await preflight(`${API}/manifests`, 'GET', origin);
      t.equal(res.statusCode, 404, origin);
      t.same(corsHeaders(res), [], origin);
    }
    const read = await app.inject({ method: 'GET', url: `${API}/manifests/${manifest}`, headers: { origin: STRANGER, ...ctx.auth(reader) } });
    t.equal(read.statusCode, 200, 'the server still answers; the browser withholds it from the page');
    t.same(corsHeaders(read), []);
    t.ok(listOf(read.headers.vary).includes('origin'));
  });

  await t.test('without Origin (curl, services): no CORS headers, OPTIONS a 404', async (t) => {
    const options = await app.inject({ method: 'OPTIONS', url: `${API}/manifests` });
    t.equal(options.statusCode, 404);
    t.equal(options.json().code, 'route_not_found');
    const read = await app.inject({ method: 'GET', url: `${API}/manifests`, headers: ctx.auth(reader) });
    t.equal(read.statusCode, 200);
    t.same(corsHeaders(read), []);
  });

  await t.test('an OPTIONS from a listed origin that is not a preflight gets the preflight answer, not a text/plain 400', async (t) => {
    const res = await app.inject({ method: 'OPTIONS', url: `${API}/manifests`, headers: { origin: DASHBOARD } });
    t.equal(res.statusCode, 204);
    t.equal(res.headers['access-control-allow-origin'], DASHBOARD);
  });

  await t.test('/metrics answers a page and counts preflights under one route label', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { origin: DASHBOARD } });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^text\/plain/);
    t.equal(res.headers['access-control-allow-origin'], DASHBOARD);
    t.match(res.body, /http_requests_total\{method="OPTIONS",route="\*",status="204"\} \d+/);
    t.notMatch(res.body, /route="\/api\/v2\/source_control\/manifests\/prod-/, 'never a raw URL');
  });
});

t.test('without MIR_CORS_ORIGINS: no CORS at all', async (t) => {
  const ctx = await buildTestApp(t, { env: { MIR_CORS_ORIGINS: '' } });
  t.same(ctx.config.corsOrigins, []);
  const preflight = await ctx.app.inject({
    method: 'OPTIONS',
    url: `${API}/manifests/m/7f8f5a3e-9a43-4a0c-9a55-3f0e2b1c4d5e`,
    headers: { origin: DASHBOARD, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
  });
  t.equal(preflight.statusCode, 404);
  t.equal(preflight.json().code, 'route_not_found');
  t.same(corsHeaders(preflight), []);
  const read = await ctx.app.inject({ method: 'GET', url: `${API}/manifests`, headers: { origin: DASHBOARD, ...ctx.auth() } });
  t.equal(read.statusCode, 200);
  t.same(corsHeaders(read), []);
  t.notOk(listOf(read.headers.vary).includes('origin'));
});

t.test('MIR_CORS_ORIGINS: exact origins, each bad one named', async (t) => {
  const problems = (value: string) => {
    try {
      loadConfig({ MIR_CORS_ORIGINS: value });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  t.same(loadConfig({}).corsOrigins, [], 'unset: none');
  t.same(loadConfig({ MIR_CORS_ORIGINS: ' , ' }).corsOrigins, [], 'only separators: none');
  const config = loadConfig({ MIR_CORS_ORIGINS: 'https://dash.example, http://127.0.0.1:8080,https://dash.example,http://[::1]:3000,' });
  t.same(config.corsOrigins, ['https://dash.example', 'http://127.0.0.1:8080', 'http://[::1]:3000'], 'trimmed, deduplicated, empty items ignored');
  t.ok(Object.isFrozen(config.corsOrigins), 'frozen');

  t.same(problems('*'), ['MIR_CORS_ORIGINS: "*" is not accepted: list the origins of the pages that call mir']);
  t.same(problems('dash.example'), ['MIR_CORS_ORIGINS: "dash.example" is not an origin: scheme://host[:port]']);
  t.same(problems('ftp://dash.example'), ['MIR_CORS_ORIGINS: "ftp://dash.example" is not an origin: the scheme must be http or https']);
  t.same(problems('https://dash.example/, https://Dash.example, https://dash.example:443, https://dash.example/app'), [
    'MIR_CORS_ORIGINS: "https://dash.example/" is not an origin as browsers send it (scheme://host[:port], lower case, no path): "https://dash.example"',
    'MIR_CORS_ORIGINS: "https://Dash.example" is not an origin as browsers send it (scheme://host[:port], lower case, no path): "https://dash.example"',
    'MIR_CORS_ORIGINS: "https://dash.example:443" is not an origin as browsers send it (scheme://host[:port], lower case, no path): "https://dash.example"',
    'MIR_CORS_ORIGINS: "https://dash.example/app" is not an origin as browsers send it (scheme://host[:port], lower case, no path): "https://dash.example"',
  ]);
  t.same(problems('https://ok.example, null'), ['MIR_CORS_ORIGINS: "null" is not an origin: scheme://host[:port]'], 'only the bad one is named');
});
