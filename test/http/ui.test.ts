// The dashboard's files at /ui/ (src/http/ui.ts): index.html and the assets from MIR_UI_DIR with the
// security headers, caching, the /ui redirect, not in the OpenAPI document; and the 404 problem
// (plus one start-up warning) when the directory was never built.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildUi } from '../../scripts/build-ui.mjs';
import { loadConfig } from '../../src/config.js';
import { UI_CSP } from '../../src/http/ui.js';
import { buildTestApp } from '../helpers/app.js';

t.test('a built dashboard is served at /ui/ with strict headers', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-ui-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const built = await buildUi(dir);
  t.same(built.files.map((f) => f.name).sort(), ['app.css', 'app.js', 'index.html'], 'three files');
  const ctx = await buildTestApp(t, { env: { MIR_UI_DIR: dir } });

  const index = await ctx.app.inject({ method: 'GET', url: '/ui/' });
  t.equal(index.statusCode, 200);
  t.match(index.headers['content-type'], /^text\/html/);
  t.equal(index.headers['cache-control'], 'no-cache', 'index.html is revalidated on every load');
  t.equal(index.headers['content-security-policy'], UI_CSP);
  t.match(UI_CSP, /default-src 'self'; connect-src 'self'/);
  t.notMatch(UI_CSP, /unsafe-inline|unsafe-eval/, 'no inline script or eval');
  t.equal(index.headers['x-content-type-options'], 'nosniff');
  t.equal(index.headers['referrer-policy'], 'no-referrer');
  t.notMatch(index.body, /<script>|<script [^>]*>[^<]/, 'no inline script in index.html');
  const script = /src="(app\.js\?v=[0-9a-f]{12})"/.exec(index.body);
  const style = /href="(app\.css\?v=[0-9a-f]{12})"/.exec(index.body);
  t.ok(script && style, 'index.html names both assets with a content hash');

  const js = await ctx.app.inject({ method: 'GET', url: `/ui/${script![1]}` });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /javascript/);
  t.equal(js.headers['cache-control'], 'public, max-age=86400', 'assets are cacheable');
  t.equal(js.headers['content-security-policy'], UI_CSP);
  t.equal(Number(js.headers['content-length'] ?? js.rawPayload.length), built.files.find((f) => f.name === 'app.js')!.bytes);
  const css = await ctx.app.inject({ method: 'GET', url: `/ui/${style![1]}` });
  t.equal(css.statusCode, 200);
  t.match(css.headers['content-type'], /text\/css/);

  const redirect = await ctx.app.inject({ method: 'GET', url: '/ui' });
  t.equal(redirect.statusCode, 308, '/ui redirects');
  t.equal(redirect.headers.location, '/ui/');
  const withQuery = await ctx.app.inject({ method: 'GET', url: '/ui?x=1' });
  t.equal(withQuery.headers.location, '/ui/?x=1', 'the query is kept');

  const missing = await ctx.app.inject({ method: 'GET', url: '/ui/nope.js' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'route_not_found', 'an unknown file is the usual 404 problem');
  const escape = await ctx.app.inject({ method: 'GET', url: '/ui/..%2f..%2fpackage.json' });
  t.not(escape.statusCode, 200, 'nothing outside the directory');

  const document = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  t.notOk(
    Object.keys(document.json().paths).some((p) => p.startsWith('/ui')),
    '/ui/ is not in the OpenAPI document',
  );
  const api = await ctx.app.inject({ method: 'GET', url: '/readyz' });
  t.notOk(api.headers['content-security-policy'], 'the API carries no page policy');
});

t.test('an unbuilt dashboard: /ui/ is a 404 problem saying to build it, and start-up warns once', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-ui-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ctx = await buildTestApp(t, { env: { MIR_UI_DIR: dir }, captureLogs: true });
  for (const url of ['/ui/', '/ui/app.js']) {
    const answer = await ctx.app.inject({ method: 'GET', url });
    t.equal(answer.statusCode, 404, url);
    t.match(answer.headers['content-type'], /^application\/problem\+json/);
    t.match(answer.json(), { code: 'ui_not_built', message: /npm run build/ }, 'the problem says how to build it');
    t.equal(answer.headers['content-security-policy'], UI_CSP);
  }
  const warnings = ctx.logs.filter((line) => typeof line.msg === 'string' && line.msg.includes('dashboard is not built'));
  t.equal(warnings.length, 1, 'one warning');
  t.equal(warnings[0]?.ui_dir, dir, 'naming the directory');
});

t.test('MIR_UI_DIR: relative to the working directory; unset, build/ui under the package root', async (t) => {
  t.equal(loadConfig({ MIR_UI_DIR: 'dist/ui' }, '/srv/mir').uiDir, path.resolve('/srv/mir/dist/ui'));
  t.equal(loadConfig({}, '/srv/mir').uiDir, path.resolve(import.meta.dirname, '../../build/ui'));
});
