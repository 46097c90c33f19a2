// The generated client drives a whole release flow against a real mir on 127.0.0.1: a change to the
// document that breaks a client's calls fails this file's type check, and a server that no longer
// answers what the document says fails its assertions.
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createMirClient } from '../../src/client/client.js';
import { buildTestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

t.test('token → release → merge → publish → merge → instance → what it runs → 304, all through the client', async (t) => {
  const ctx = await buildTestApp(t);
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
  const app = element('PAGE', []);
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [app], manifests: { [prod]: manifestYaml(prod) } });

  const admin = createMirClient({ baseUrl, token: ctx.adminToken, userAgent: 'mir-scenario-test' });
  const token = await admin.POST('/api/v2/tokens', {
    body: { name: 'release-bot', scopes: ['source_control:releases_write', 'source_control:write'] },
  });
  t.equal(token.response.status, 201, JSON.stringify(token.error));
  if (!token.data) return;
  t.same(token.data.data.scopes, ['source_control:releases_write', 'source_control:write']);
  const bot = createMirClient({ baseUrl, token: token.data.data.token });

  const path = { elementUuid: app.uuid };
  const dry = await bot.POST('/api/v2/source_control/releases/{elementUuid}', {
    params: { path, query: { elementType: 'PAGE', dry_run: true } },
    body: { bump: 'minor', release_description: 'First cut' },
  });
  t.ok(dry.data && 'dry_run' in dry.data.data, 'a dry run answers what it would push');
  const released = await bot.POST('/api/v2/source_control/releases/{elementUuid}', {
    params: { path, query: { elementType: 'PAGE' } },
    body: { bump: 'minor', release_description: 'First cut' },
  });
  t.equal(released.response.status, 200, JSON.stringify(released.error));
  if (!released.data || 'dry_run' in released.data.data) return t.fail('a release, not a dry run');
  const release = released.data.data;
  t.equal(release.release_version, '0.1.0', 'minor bump of nothing');
  t.equal(dry.data && 'dry_run' in dry.data.data && dry.data.data.sha256, release.sha256, 'the dry run named the zip that was pushed');
  t.equal(release.pull_request.state, 'open');

  const pending = await bot.GET('/api/v2/source_control/releases/{elementUuid}', { params: { path, query: { elementType: 'PAGE' } } });
  t.match(pending.data?.data, [{ release_version: '0.1.0', status: 'pending' }]);

  const mergedRelease = await bot.POST('/api/v2/source_control/pull_requests/{number}/merge', {
    params: { path: { number: release.pull_request.number } },
  });
  t.equal(mergedRelease.data?.data.pull_request.state, 'merged', JSON.stringify(mergedRelease.error));

  const published = await bot.POST('/api/v2/source_control/publish', {
    body: {
      changes: [{ manifest: prod, element_uuid: app.uuid, element_type: 'PAGE', release: '0.1.0' }],
      commit_message: 'Ship 0.1.0 to prod',
    },
  });
  t.equal(published.response.status, 200, JSON.stringify(published.error));
  if (!published.data || 'dry_run' in published.data.data) return t.fail('a publish, not a dry run');
  const publishNumber = published.data.data.pull_request.number;
  const shown = await bot.GET('/api/v2/source_control/pull_requests/{number}', { params: { path: { number: publishNumber } } });
  t.match(shown.data?.data.pull_request.manifests, [{ manifest: prod, added: [{ element_uuid: app.uuid, release: '0.1.0' }] }]);
  const mergedPublish = await bot.POST('/api/v2/source_control/pull_requests/{number}/merge', {
    params: { path: { number: publishNumber } },
  });
  t.equal(mergedPublish.data?.data.pull_request.state, 'merged', JSON.stringify(mergedPublish.error));

  const matrix = await bot.GET('/api/v2/source_control/elements', { params: { query: { name: app.name } } });
  t.match(matrix.data?.data.elements, [{ uuid: app.uuid, latest_release: '0.1.0', manifests: { [prod]: '0.1.0' } }]);

  const instanceName = manifestName('eu-1');
  const created = await bot.POST('/api/v2/source_control/instances', {
    body: { name: instanceName, description: 'EU production', manifest: prod },
  });
  t.equal(created.response.status, 201, JSON.stringify(created.error));
  t.equal(created.data?.data.instance.manifest, prod);

  const releasesPath = '/api/v2/source_control/instances/{name}/releases' as const;
  const runs = await bot.GET(releasesPath, { params: { path: { name: instanceName } } });
  t.equal(runs.response.status, 200, JSON.stringify(runs.error));
  t.match(runs.data?.data, {
    instance: instanceName,
    manifest: prod,
    elements: [{ uuid: app.uuid, type: 'PAGE', name: app.name, release: '0.1.0', artifact: { sha256: release.sha256, size: release.size } }],
  });
  const etag = runs.response.headers.get('etag');
  t.ok(etag, 'the answer carries an ETag');

  // openapi-fetch types an answer as data (2xx) or error (4xx, 5xx): a 304 is neither, and its
  // empty body comes back as `error: ""`, so the status is what says "not modified".
  const again = await bot.GET(releasesPath, { params: { path: { name: instanceName }, header: { 'If-None-Match': etag ?? '' } } });
  t.equal(again.response.status, 304, 'not modified while neither the default branch nor the binding moved');
  t.equal(again.data, undefined, 'no body');

  const missing = await bot.GET(releasesPath, { params: { path: { name: manifestName('nobody') } } });
  t.equal(missing.response.status, 404);
  t.equal(missing.error?.code, 'instance_not_found', 'errors are typed as the problem document');
});
