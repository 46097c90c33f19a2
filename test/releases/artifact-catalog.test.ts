// Artifacts are checked before they can be published or served (issue 13 item 6): zips pushed
// with plain git under dist/ that are corrupt, escape their folder or declare a bomb's sizes are
// refused with 422 artifact_invalid naming the path, and the verdict is kept in the artifacts
// table, so each blob is opened once.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { GitGateway } from '../../src/git/types.js';
import { createArtifactCatalog, CHECKS } from '../../src/releases/artifact-catalog.js';
import { artifactPath } from '../../src/formats/layout.js';
import { buildTestApp } from '../helpers/app.js';
import { commitFiles, element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';
import { craftZip, deflated, stored } from '../formats/zip-craft.js';

const API = '/api/v2/source_control';

/** The gateway itself, counting the blobs read through it. */
function counting(git: GitGateway): { git: GitGateway; reads: () => number } {
  let reads = 0;
  return {
    git: { ...git, readBlob: (options) => (reads++, git.readBlob(options)) },
    reads: () => reads,
  };
}

t.test('a bad artifact cannot be published, nor served to an instance; its verdict is read once', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const db = ctx.database.handle.db;
  const a = element('PAGE', ['1.0.0']);
  const [dev, prod] = [manifestName('dev'), manifestName('prod')];
  await seed(ctx.git, { elements: [a], manifests: { [dev]: manifestYaml(dev, { apps: [[a.uuid, '1.0.0']] }), [prod]: manifestYaml(prod) } });

  const bad: Record<string, { zip: Uint8Array; reason: RegExp }> = {
    '2.0.0': { zip: randomBytes(300), reason: /^not a zip file/ },
    '3.0.0': { zip: craftZip([stored('main.json', '{}'), stored('../evil', 'owned')]), reason: /^entry name "\.\.\/evil" has a \.\. segment$/ },
    '4.0.0': {
      zip: craftZip([deflated('bomb.bin', 'tiny', { uncompressedSize: 0xfffffff0 })]),
      reason: /^entry "bomb\.bin": entry declares 4294967280 bytes$/,
    },
    '5.0.0': { zip: craftZip([deflated('main.json', '{"a": 1}', { crc: 1 })]), reason: /^entry "main\.json": entry fails its CRC-32 check$/ },
  };
  const path = (version: string) => artifactPath('PAGE', a.uuid, version);
  await commitFiles(ctx.git, Object.fromEntries(Object.entries(bad).map(([version, { zip }]) => [path(version), zip])), 'Push zips with plain git\n');
  const writer = await ctx.tokenFor('source_control:releases_write');
  const branches = async () => (await ctx.git.listBranches({})).map((b) => `${b.name} ${b.sha}`);
  const before = await branches();

  const writes: [string, (version: string) => Promise<{ statusCode: number; json(): any }>][] = [
    [
      'POST /publish',
      (version) =>
        app.inject({
          method: 'POST',
          url: `${API}/publish`,
          headers: ctx.auth(writer),
          payload: { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: version }] },
        }),
    ],
    [
      'POST /publish?dry_run=true',
      (version) =>
        app.inject({
          method: 'POST',
          url: `${API}/publish?dry_run=true`,
          headers: ctx.auth(writer),
          payload: { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: version }] },
        }),
    ],
    [
      'PUT /manifests/{name}/{uuid}',
      (version) =>
        app.inject({ method: 'PUT', url: `${API}/manifests/${prod}/${a.uuid}?elementType=PAGE`, headers: ctx.auth(writer), payload: { release: version } }),
    ],
    [
      'PUT /manifests/{name}',
      (version) =>
        app.inject({
          method: 'PUT',
          url: `${API}/manifests/${prod}`,
          headers: ctx.auth(writer),
          payload: { manifest: { apps: [{ uuid: a.uuid, release: version }], workflows: [] } },
        }),
    ],
  ];
  for (const [route, write] of writes) {
    for (const [version, { reason }] of Object.entries(bad)) {
      const res = await write(version);
      t.equal(res.statusCode, 422, `${route} ${version}`);
      t.match(res.json(), { code: 'artifact_invalid', status: 422, path: path(version), reason }, `${route} ${version} names the path and the reason`);
      t.match(res.json().message, path(version));
    }
  }
  t.same(await app.services.pullRequests.list({}), [], 'no pull request opened');
  t.same(await branches(), before, 'no branch pushed');

  const good = await app.inject({
    method: 'POST',
    url: `${API}/publish`,
    headers: ctx.auth(writer),
    payload: { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] },
  });
  t.equal(good.statusCode, 200, 'a valid artifact still publishes');

  await t.test('the verdicts are rows of the artifacts table', async (t) => {
    const snapshot = await ctx.app.services.snapshots.latest();
    const blob = (version: string) => snapshot.releases.get(`PAGE:${a.uuid}`)!.get(version)!.blobId;
    const rows = await db
      .selectFrom('artifacts')
      .select(['blob_id', 'problem', 'checks'])
      .where('blob_id', 'in', ['1.0.0', ...Object.keys(bad)].map(blob))
      .execute();
    const byBlob = new Map(rows.map((r) => [r.blob_id, r]));
    t.same(byBlob.get(blob('1.0.0')), { blob_id: blob('1.0.0'), problem: null, checks: CHECKS });
    for (const [version, { reason }] of Object.entries(bad)) t.match(byBlob.get(blob(version)), { problem: reason, checks: CHECKS }, version);

    const located = ['1.0.0', ...Object.keys(bad)].map((version) => ({ blobId: blob(version), commit: snapshot.commit, path: path(version) }));
    const first = counting(ctx.git);
    const infos = await createArtifactCatalog({ db, git: first.git }).describe(located);
    t.equal(first.reads(), 0, 'a new process reads the verdicts from the table, not the zips');
    t.equal(infos.get(blob('1.0.0'))?.problem, null);
    t.match(infos.get(blob('3.0.0'))?.problem, bad['3.0.0']!.reason);

    // A row written before verdicts existed, or by a replica of the previous release.
    await db
      .updateTable('artifacts')
      .set({ problem: null, checks: null })
      .where('blob_id', 'in', [blob('1.0.0'), blob('3.0.0')])
      .execute();
    const second = counting(ctx.git);
    const catalog = createArtifactCatalog({ db, git: second.git });
    await t.rejects(
      catalog.requireValid([located[0]!, located[2]!]),
      { code: 'artifact_invalid', details: { path: path('3.0.0') } },
      'an unchecked row is not trusted',
    );
    t.equal(second.reads(), 2, 'only the unchecked rows are read again');
    const rechecked = await db
      .selectFrom('artifacts')
      .select(['blob_id', 'problem', 'checks'])
      .where('blob_id', 'in', [blob('1.0.0'), blob('3.0.0')])
      .execute();
    t.same(
      new Map(rechecked.map((r) => [r.blob_id, [r.problem === null, r.checks]])),
      new Map([
        [blob('1.0.0'), [true, CHECKS]],
        [blob('3.0.0'), [false, CHECKS]],
      ]),
      'and their rows updated',
    );
    await catalog.requireValid(located.slice(0, 1));
    t.equal(second.reads(), 2, 'then kept in memory');
  });

  await t.test('GET /instances/{name}/releases refuses the whole answer when its manifest names a bad artifact', async (t) => {
    const broken = manifestName('broken');
    await commitFiles(
      ctx.git,
      { [`manifests/${broken}.yaml`]: manifestYaml(broken, { apps: [[a.uuid, '3.0.0']] }) },
      'Point an instance at a bad zip with plain git\n',
    );
    await ctx.git.fetchAllBranches();
    for (const [name, manifest] of [
      ['eu-bad', broken],
      ['eu-good', dev],
    ]) {
      const created = await app.inject({ method: 'POST', url: `${API}/instances`, headers: ctx.auth(), payload: { name, manifest } });
      t.equal(created.statusCode, 201, created.body);
    }
    const refused = await app.inject({ method: 'GET', url: `${API}/instances/eu-bad/releases`, headers: ctx.auth() });
    t.equal(refused.statusCode, 422);
    t.match(refused.json(), { code: 'artifact_invalid', path: path('3.0.0'), reason: bad['3.0.0']!.reason });
    const served = await app.inject({ method: 'GET', url: `${API}/instances/eu-good/releases`, headers: ctx.auth() });
    t.equal(served.statusCode, 200);
    t.match(served.json().data.elements, [{ uuid: a.uuid, release: '1.0.0', artifact: { path: path('1.0.0') } }]);
  });
});

t.test('warm-up describes every artifact ahead of requests, those manifests name last, each zip read once', async (t) => {
  const ctx = await buildTestApp(t);
  const db = ctx.database.handle.db;
  const [a, b] = [element('PAGE', ['1.0.0', '1.1.0', '2.0.0']), element('WORKFLOW', ['0.1.0'])];
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [a, b], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '2.0.0']], workflows: [[b.uuid, '0.1.0']] }) } });
  const snapshot = await ctx.app.services.snapshots.latest();
  const blob = (type: 'PAGE' | 'WORKFLOW', uuid: string, version: string) => snapshot.releases.get(`${type}:${uuid}`)!.get(version)!.blobId;
  const located = (version: string) => ({ blobId: blob('PAGE', a.uuid, version), commit: snapshot.commit, path: artifactPath('PAGE', a.uuid, version) });

  const order: string[] = [];
  const reads = counting(ctx.git);
  const git: GitGateway = { ...reads.git, readBlob: (options) => (order.push(options.oid), reads.git.readBlob(options)) };
  const catalog = createArtifactCatalog({ db, git });
  const progress: number[] = [];
  const warmed = await catalog.warm(snapshot, { onProgress: (p) => progress.push(p.checked) });
  t.match(warmed, { checked: 4, read: 4, aborted: false });
  t.same(new Set(order.slice(2)), new Set([blob('PAGE', a.uuid, '2.0.0'), blob('WORKFLOW', b.uuid, '0.1.0')]), 'what the manifest names last');
  t.equal(reads.reads(), 4, 'each zip read once');

  const infos = await catalog.describe(['1.0.0', '1.1.0', '2.0.0'].map(located));
  t.equal(infos.size, 3);
  t.equal(reads.reads(), 4, 'a request after the warm-up reads nothing');
  t.match(await catalog.warm(snapshot), { checked: 0, read: 0 }, 'a second pass over the same head has nothing to do');
  const rows = await db.selectFrom('artifacts').select('blob_id').execute();
  t.equal(rows.length, 4, 'and every verdict is a row');

  await t.test('describes running at once share the reads of the same blobs', async (t) => {
    const fresh = counting(ctx.git);
    // A new process: nothing in memory; the rows gone too, so every zip must be read.
    await db.deleteFrom('artifacts').execute();
    const other = createArtifactCatalog({ db, git: fresh.git });
    const all = ['1.0.0', '1.1.0', '2.0.0'].map(located);
    const [first, second, third] = await Promise.all([other.describe(all), other.describe(all.slice(1)), other.warm(snapshot)]);
    t.equal(fresh.reads(), 4, 'four zips, read once each across three callers');
    t.equal(first.size, 3);
    t.equal(second.size, 2);
    t.same([...second.values()], [first.get(all[1]!.blobId), first.get(all[2]!.blobId)], 'the same verdicts');
    t.equal(third.checked, 4);
  });

  await t.test('an aborted warm-up stops at its next slice', async (t) => {
    const abort = new AbortController();
    abort.abort();
    const result = await createArtifactCatalog({ db, git: ctx.git }).warm(snapshot, { signal: abort.signal });
    t.match(result, { checked: 0, aborted: true });
  });
});

t.test('the warmer warms the head at start and again when it moves, and stops cleanly', async (t) => {
  const ctx = await buildTestApp(t);
  const a = element('PAGE', ['1.0.0']);
  await seed(ctx.git, { elements: [a] });
  const { warmer } = ctx.app.services;
  const warm = async () => /^mir_artifacts_warm (\d)$/m.exec((await ctx.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1];
  t.equal(warmer.warmedHead, undefined);
  t.equal(await warm(), '0', '/metrics says the head is not warm yet');
  await warmer.warmNow();
  t.equal(warmer.warmedHead, await ctx.git.headCommit());
  t.equal(await warm(), '1', 'and then that it is');

  const zip = craftZip([stored('main.json', '{}')]);
  const head = await commitFiles(ctx.git, { [artifactPath('PAGE', a.uuid, '9.9.9')]: zip }, 'A zip pushed with plain git\n');
  await ctx.git.fetchAllBranches();
  await warmer.warmNow();
  t.equal(warmer.warmedHead, head, 'the new head is warmed');
  const rows = await ctx.database.handle.db.selectFrom('artifacts').select(['blob_id', 'problem']).execute();
  t.equal(rows.length, 2, 'its new zip described too');
  await warmer.stop();
  const later = await commitFiles(ctx.git, { [artifactPath('PAGE', a.uuid, '9.9.10')]: zip }, 'Another zip\n');
  await ctx.git.fetchAllBranches();
  await warmer.warmNow();
  t.not(later, head);
  t.equal(warmer.warmedHead, head, 'a stopped warmer does not warm a new head');
});
