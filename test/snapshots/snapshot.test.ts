// Snapshots of the default branch: parsed once per commit, rebuilt only where subtrees changed.
import t, { type Test } from 'tap';
import type { GitGateway } from '../../src/git/types.js';
import type { Snapshot } from '../../src/snapshots/snapshot.js';
import { tempDir } from '../helpers/git-server.js';
import { createSnapshots } from '../../src/snapshots/snapshots.js';
import { author, enc, makeGateway } from '../git/fixtures.js';

const U1 = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';
const U2 = '1e8d2d0f-5b9f-4e1d-8b68-3a3a7a2e9b22';
const W1 = '5b0e3e1a-6ca0-4f2e-9c79-4b4b8b3fac33';

function manifest(name: string, release: string): string {
  return `version: 1.0.0\nname: ${name}\napps:\n  - uuid: ${U1}\n    release: ${release}\nworkflows: []\n`;
}

async function land(gateway: GitGateway, changes: Parameters<GitGateway['commit']>[0]['changes'], message: string): Promise<string> {
  const from = await gateway.headCommit();
  const to = await gateway.commit({ parent: from, changes, message, author });
  await gateway.fastForwardDefault({ from, to });
  return to;
}

async function seeded(t: Test) {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const gateway = makeGateway({ dataDir: dir.path });
  await gateway.start();
  t.teardown(() => gateway.close());
  await land(
    gateway,
    [
      { path: '.retool/protected-apps.yaml', bytes: enc(`apps:\n  - uuid: ${U1}\n    name: Shop\n  - uuid: ${U2}\n    name: Admin\n    path: custom/admin\n`) },
      { path: '.retool/protected-workflows.yaml', bytes: enc(`workflows:\n  - uuid: ${W1}\n    name: Nightly\n`) },
      { path: 'manifests/prod.yaml', bytes: enc(manifest('prod', '1.0.0')) },
      { path: 'manifests/dev.yaml', bytes: enc(manifest('dev', '1.1.0')) },
      { path: 'manifests/broken.yaml', bytes: enc('version: 1.0.0\nname: broken\napps: [\n') },
      { path: 'manifests/README.md', bytes: enc('not a manifest') },
      { path: `dist/apps/${U1}/1.0.0.zip`, bytes: enc('zip-1.0.0') },
      { path: `dist/apps/${U1}/1.1.0.zip`, bytes: enc('zip-1.1.0-longer') },
      { path: `dist/apps/${U1}/notes.txt`, bytes: enc('ignored') },
      { path: `dist/apps/${U2}/0.1.0.zip`, bytes: enc('admin') },
      { path: `dist/workflows/${W1}/2.0.0.zip`, bytes: enc('wf') },
    ],
    'seed',
  );
  return { gateway, snapshots: createSnapshots(gateway) };
}

t.test('a snapshot holds the parsed manifests, protected elements and releases', async (t) => {
  const { gateway, snapshots } = await seeded(t);
  const snap = await snapshots.latest();
  t.equal(snap.commit, await gateway.headCommit());
  t.match(snap.tree, /^[0-9a-f]{40}$/);
  t.same([...snap.manifests.keys()].sort(), ['broken', 'dev', 'prod']);
  const prod = snap.manifests.get('prod')!;
  t.equal(prod.path, 'manifests/prod.yaml');
  t.equal(prod.error, undefined);
  t.equal(prod.file?.manifest.name, 'prod');
  const broken = snap.manifests.get('broken')!;
  t.equal(broken.file, undefined);
  t.equal(broken.error?.path, 'manifests/broken.yaml');
  t.type(broken.error?.line, 'number');
  t.type(broken.error?.reason, 'string');

  t.same(
    snap.elements.map((e) => [e.type, e.uuid, e.name, e.sourceFolder]),
    [
      ['PAGE', U1, 'Shop', 'apps/Shop'],
      ['PAGE', U2, 'Admin', 'custom/admin'],
      ['WORKFLOW', W1, 'Nightly', 'workflows/Nightly'],
    ],
  );
  t.same(snap.elementErrors, []);

  t.same([...snap.releases.keys()].sort(), [`PAGE:${U1}`, `PAGE:${U2}`, `WORKFLOW:${W1}`].sort());
  const shop = snap.releases.get(`PAGE:${U1}`)!;
  t.same([...shop.keys()].sort(), ['1.0.0', '1.1.0']);
  t.equal(shop.get('1.1.0')?.path, `dist/apps/${U1}/1.1.0.zip`);
  t.equal(shop.get('1.1.0')?.size, 'zip-1.1.0-longer'.length);
  t.match(shop.get('1.1.0')?.blobId, /^[0-9a-f]{40}$/);
  t.same([...snap.releases.get(`WORKFLOW:${W1}`)!.keys()], ['2.0.0']);
});

/** Touches every parsed part, as a request listing everything would. */
function parseAll(snap: Snapshot): void {
  for (const entry of snap.manifests.values()) void (entry.file ?? entry.error);
  void snap.elements;
}

t.test('parsing waits for the first access and happens once per blob', async (t) => {
  const { snapshots } = await seeded(t);
  const before = snapshots.counters();
  const snap = await snapshots.latest();
  t.equal(snapshots.counters().manifestParses, before.manifestParses, 'building parses nothing');
  t.equal(snapshots.counters().protectedParses, before.protectedParses);
  void snap.manifests.get('prod')?.file;
  void snap.manifests.get('prod')?.error;
  t.equal(snapshots.counters().manifestParses - before.manifestParses, 1);
  parseAll(snap);
  parseAll(snap);
  t.equal(snapshots.counters().manifestParses - before.manifestParses, 3);
  t.equal(snapshots.counters().protectedParses - before.protectedParses, 2);
});

t.test('loadElements: the lists parsed once however many ask at once, the same elements as `elements`', async (t) => {
  const { snapshots } = await seeded(t);
  const before = snapshots.counters().protectedParses;
  const snap = await snapshots.latest();
  const [a, b, c] = await Promise.all([snap.loadElements(), snap.loadElements(), snapshots.latest({ elements: true }).then((s) => s.loadElements())]);
  t.equal(snapshots.counters().protectedParses - before, 2, 'one parse per list (apps, workflows)');
  t.equal(a, b, 'the same list');
  t.equal(a, c);
  t.equal(snap.elements, a, '`elements` gives it without parsing again');
  t.equal(snapshots.counters().protectedParses - before, 2);
  t.ok(a.length > 0, `${a.length} elements`);
});

t.test('the same commit gives the same object; a one-manifest change re-parses only it', async (t) => {
  const { gateway, snapshots } = await seeded(t);
  const first = await snapshots.latest();
  t.equal(await snapshots.latest(), first, 'memoized per commit');
  parseAll(first);
  const before = snapshots.counters();

  await land(gateway, [{ path: 'manifests/prod.yaml', bytes: enc(manifest('prod', '1.1.0')) }], 'publish');
  const second = await snapshots.latest();
  t.not(second, first);
  parseAll(second);
  const after = snapshots.counters();
  t.equal(after.snapshotsBuilt - before.snapshotsBuilt, 1);
  t.equal(after.manifestParses - before.manifestParses, 1, 'only the changed manifest is parsed');
  t.equal(after.protectedParses, before.protectedParses, 'protected lists untouched');
  t.equal(after.blobSizeReads, before.blobSizeReads, 'no artifact read');
  // root, manifests/: the only trees read again.
  t.equal(after.treeReads - before.treeReads, 2);
  t.equal(second.releases, first.releases, 'the releases map is shared: dist/ did not change');
  t.equal(second.manifests.get('dev'), first.manifests.get('dev'), 'the unchanged manifest is the same entry');
  t.equal(second.manifests.get('dev')?.file, first.manifests.get('dev')?.file, 'and the same parsed file');
  t.equal(second.manifests.get('prod')?.file?.manifest.apps[0]?.release, '1.1.0');
});

t.test('a new artifact re-reads only its element folder', async (t) => {
  const { gateway, snapshots } = await seeded(t);
  const first = await snapshots.latest();
  parseAll(first);
  const before = snapshots.counters();
  await land(gateway, [{ path: `dist/apps/${U1}/1.2.0.zip`, bytes: enc('zip-1.2.0') }], 'release');
  const second = await snapshots.latest();
  parseAll(second);
  const after = snapshots.counters();
  t.equal(after.blobSizeReads - before.blobSizeReads, 1);
  t.equal(after.manifestParses, before.manifestParses);
  t.same([...second.releases.get(`PAGE:${U1}`)!.keys()].sort(), ['1.0.0', '1.1.0', '1.2.0']);
  t.equal(second.releases.get(`PAGE:${U2}`), first.releases.get(`PAGE:${U2}`), 'other elements shared');
  t.equal(second.manifests, first.manifests);
});

t.test('an unparsable protected list is reported, not dropped', async (t) => {
  const { gateway, snapshots } = await seeded(t);
  await land(gateway, [{ path: '.retool/protected-apps.yaml', bytes: enc('apps:\n  - uuid: not-a-uuid\n    name: X\n') }], 'break');
  const snap = await snapshots.latest();
  t.equal(snap.elementErrors.length, 1);
  t.equal(snap.elementErrors[0]?.path, '.retool/protected-apps.yaml');
  t.equal(snap.elementErrors[0]?.line, 2);
  t.same(
    snap.elements.map((e) => e.name),
    ['Nightly'],
    'the other list still counts',
  );
});
