// CORS as a browser enforces it: mir listening on 127.0.0.1, a dashboard page served from another
// origin (another port), and headless Chromium (Debian's `chromium`, driven by playwright-core)
// running the page's own fetch calls. Without Chromium this fails rather than skips: .ci/run
// installs it.
import { access } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const API = '/api/v2/source_control';

/** A page server on its own 127.0.0.1 port, which is its own origin. */
async function servePage(t: Test, title: string): Promise<string> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>${title}</title><p>${title}</p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function openPage(t: Test, origin: string): Promise<Page> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  return page;
}

t.test('a dashboard on a listed origin calls mir from Chromium; a page on another origin cannot', async (t) => {
  const dashboard = await servePage(t, 'release dashboard');
  const stranger = await servePage(t, 'some other site');
  const ctx = await buildTestApp(t, { env: { MIR_CORS_ORIGINS: dashboard } });
  const app = element('PAGE', ['1.0.0']);
  const manifest = manifestName('prod');
  const fixture = await seed(ctx.git, { elements: [app], manifests: { [manifest]: manifestYaml(manifest) } });
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  const mir = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  const calls = {
    read: `${mir}${API}/manifests/${manifest}`,
    write: `${mir}${API}/manifests/${manifest}/${app.uuid}?elementType=PAGE&dry_run=true`,
    reader: await ctx.tokenFor('source_control:releases_read'),
    writer: await ctx.tokenFor('source_control:releases_write'),
  };

  await t.test('from the dashboard: a conditional read and a preflighted write, headers readable in JS', async (t) => {
    const page = await openPage(t, dashboard);
    const seen = await page.evaluate(async ({ read, write, reader, writer }) => {
      const first = await fetch(read, { headers: { authorization: `Bearer ${reader}` } });
      const etag = first.headers.get('etag') ?? '';
      const body = (await first.json()) as { data: { commit_sha: string } };
      const again = await fetch(read, { headers: { authorization: `Bearer ${reader}`, 'if-none-match': etag } });
      const written = await fetch(write, {
        method: 'PUT',
        headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json', 'if-match': etag, 'x-request-id': 'dashboard-write-1' },
        body: JSON.stringify({ release: '1.0.0' }),
      });
      const answer = (await written.json()) as { data: { dry_run: boolean } };
      return {
        read: { status: first.status, etag, requestId: first.headers.get('x-request-id'), commit: body.data.commit_sha },
        again: { status: again.status, etag: again.headers.get('etag') },
        write: { status: written.status, requestId: written.headers.get('x-request-id'), dryRun: answer.data.dry_run },
      };
    }, calls);
    const { requestId, ...read } = seen.read;
    t.same(read, { status: 200, etag: `"${fixture.commit}"`, commit: fixture.commit }, 'ETag readable');
    t.match(requestId, /^[0-9a-f-]{36}$/, 'x-request-id readable');
    t.same(seen.again, { status: 304, etag: `"${fixture.commit}"` }, 'If-None-Match: 304, ETag readable');
    t.same(seen.write, { status: 200, requestId: 'dashboard-write-1', dryRun: true }, 'PUT with If-Match after its preflight');

    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    const preflights = /http_requests_total\{method="OPTIONS",route="\*",status="204"\} (\d+)/.exec(metrics.body);
    t.ok(preflights && Number(preflights[1]) >= 2, 'Chromium sent the preflights (the read with Authorization, the PUT)');
  });

  await t.test('from a page on an origin not listed: every fetch fails with a TypeError', async (t) => {
    const page = await openPage(t, stranger);
    const requests: { url: string; init: RequestInit }[] = [
      // No custom header: no preflight; mir answers, and the browser withholds the answer from the page.
      { url: `${mir}/readyz`, init: {} },
      { url: calls.read, init: { headers: { authorization: `Bearer ${calls.reader}` } } },
      {
        url: calls.write,
        init: {
          method: 'PUT',
          headers: { authorization: `Bearer ${calls.writer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ release: '1.0.0' }),
        },
      },
    ];
    // No named function inside evaluate: a loader that keeps names (tsx) wraps those in a `__name` helper the page does not have.
    const failures = await page.evaluate(
      (list) =>
        Promise.all(
          list.map(({ url, init }) =>
            fetch(url, init).then(
              (res) => `answered ${res.status}`,
              (error: Error) => error.name,
            ),
          ),
        ),
      requests,
    );
    t.same(failures, ['TypeError', 'TypeError', 'TypeError'], 'a simple GET, a read with a token, a write');
  });
});
