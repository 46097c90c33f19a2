// What a kill -9 leaves in a repository (ref locks, half-received packs, files written aside),
// removed when the next gateway starts; and a mirror too broken to use, fetched again from nothing.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { TEMP_MARK } from '../../src/git/atomic-fs.js';
import { repairRepository } from '../../src/git/repair.js';
import { createSnapshots } from '../../src/snapshots/snapshots.js';
import { commitFiles, runGit, tempDir } from '../helpers/git-server.js';
import { author, createTestLogger, dec, enc, makeGateway } from './fixtures.js';
import { remoteSetup } from './remote-fixtures.js';

const LEFTOVER = 'removed what an interrupted process left in the repository';

function plant(gitdir: string, file: string, content = 'left by a killed process\n'): string {
  const full = path.join(gitdir, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, content);
  return file;
}

function age(gitdir: string, file: string, ms: number): void {
  const at = new Date(Date.now() - ms);
  fs.utimesSync(path.join(gitdir, file), at, at);
}

/** A loose object's path under objects/ (xx/yyyy…). */
async function looseObject(gitdir: string): Promise<string> {
  for (const dir of fs.readdirSync(path.join(gitdir, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    const [name] = fs.readdirSync(path.join(gitdir, 'objects', dir));
    if (name) return `objects/${dir}/${name}`;
  }
  throw new Error(`no loose object in ${gitdir}`);
}

t.test('remote mode: a restart after a kill -9 clears what it left in the mirror and follows the remote', async (t) => {
  const { data, origin, logger, make } = await remoteSetup(t);
  const first = make();
  await first.start();
  // A commit never pushed: its objects stay loose in the mirror, next to which a temp file is planted.
  await first.commit({ parent: await first.headCommit(), changes: [{ path: 'manifests/x.yaml', bytes: enc('x') }], message: 'unpushed', author });
  await first.close();

  const mirror = path.join(data, 'mirror.git');
  const loose = await looseObject(mirror);
  const planted = [
    plant(mirror, 'refs/heads/main.lock'),
    plant(mirror, 'packed-refs.lock'),
    plant(mirror, 'objects/incoming-a1b2c3/tmp_pack_x'),
    plant(mirror, `objects/pack/pack-${'e'.repeat(40)}.pack`),
    plant(mirror, `${loose}${TEMP_MARK}0123456789ab`),
  ];
  const moved = await commitFiles({ repo: origin, branch: 'main', files: { 'manifests/after-crash.yaml': 'after\n' }, message: 'while mir was down' });

  const second = make();
  await second.start();
  t.equal(await second.headCommit(), moved, 'the new gateway follows main past the stale main.lock');
  t.equal(dec(await second.readFile({ ref: moved, path: 'manifests/after-crash.yaml' })), 'after\n');
  for (const file of planted) t.notOk(fs.existsSync(path.join(mirror, file)), `${file} is gone`);
  t.notOk(fs.existsSync(path.join(mirror, 'objects/incoming-a1b2c3')), 'the incoming dir is gone too');
  t.ok(fs.existsSync(path.join(mirror, loose)), 'the loose object itself is kept');
  const warned = logger.lines.find((l) => l.msg === LEFTOVER);
  t.equal(warned?.level, 'warn', 'a warn line says what was removed');
  t.same(
    [...(warned?.obj as { removed: string[] }).removed].sort(),
    ['objects/incoming-a1b2c3', ...planted.filter((f) => !f.startsWith('objects/incoming-'))].sort(),
  );
  await runGit(['fsck', '--strict'], { cwd: mirror });
});

t.test('embedded mode: a young ref lock may be native git at work and is kept; an old one is removed', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const logger = createTestLogger();
  const start = async () => {
    const gateway = makeGateway({ dataDir: dir.path, logger });
    t.teardown(() => gateway.close());
    await gateway.start();
    return gateway;
  };
  await (await start()).close();
  const repo = path.join(dir.path, 'repo.git');
  const lock = plant(repo, 'refs/heads/main.lock');

  const second = await start();
  t.ok(fs.existsSync(path.join(repo, lock)), 'a lock taken just now is left to its owner');
  t.notOk(
    logger.lines.some((l) => l.msg === LEFTOVER),
    'nothing was removed',
  );
  await second.close();

  age(repo, lock, 60_000);
  const third = await start();
  t.notOk(fs.existsSync(path.join(repo, lock)), 'a lock a minute old is removed');
  t.match(
    logger.lines.find((l) => l.msg === LEFTOVER),
    { level: 'warn', obj: { removed: ['refs/heads/main.lock'] } },
  );
  // And main can move again.
  const head = await third.headCommit();
  const next = await third.commit({ parent: head, changes: [{ path: 'a.txt', bytes: enc('a') }], message: 'a', author });
  await third.fastForwardDefault({ from: head, to: next });
  t.equal((await runGit(['rev-parse', 'main'], { cwd: repo })).trim(), next);
});

t.test('repairRepository on a bare repository: debris removed, what git needs kept, young debris kept under minLockAgeMs', async (t) => {
  const root = await tempDir();
  t.teardown(root.remove);
  const gitdir = path.join(root.path, 'bare.git');
  await runGit(['init', '--quiet', '--bare', '--initial-branch=main', gitdir]);
  const head = await commitFiles({ repo: gitdir, branch: 'main', files: { 'a.txt': 'a\n' }, message: 'a' });
  await runGit(['repack', '-a', '-d', '-q'], { cwd: gitdir });
  await commitFiles({ repo: gitdir, branch: 'side/b', files: { 'b.txt': 'b\n' }, message: 'b' });
  const loose = await looseObject(gitdir);
  const packs = fs.readdirSync(path.join(gitdir, 'objects/pack')).filter((n) => n.endsWith('.pack') || n.endsWith('.idx'));
  t.equal(packs.length, 2, 'one pack with its index');

  const debris = [
    plant(gitdir, 'refs/heads/main.lock'),
    plant(gitdir, 'refs/heads/side/b.lock'),
    plant(gitdir, `refs/heads/main${TEMP_MARK}aaaaaaaaaaaa`),
    plant(gitdir, 'packed-refs.lock'),
    plant(gitdir, 'HEAD.lock'),
    plant(gitdir, 'config.lock'),
    plant(gitdir, `packed-refs${TEMP_MARK}bbbbbbbbbbbb`),
    plant(gitdir, `${loose}${TEMP_MARK}cccccccccccc`),
    plant(gitdir, `objects/pack/pack-${'f'.repeat(40)}.pack`),
  ];
  plant(gitdir, 'objects/incoming-zz9/tmp_pack_y');
  const young = await repairRepository(gitdir, { minLockAgeMs: 30_000 });
  const youngRemoved = [`packed-refs${TEMP_MARK}bbbbbbbbbbbb`];
  t.same(young.removed, youngRemoved, 'under minLockAgeMs only the temp files of the git dir itself go, whatever their age');
  for (const file of debris.filter((f) => !youngRemoved.includes(f))) t.ok(fs.existsSync(path.join(gitdir, file)), `young ${file} is kept`);

  const later = await repairRepository(gitdir, { minLockAgeMs: 30_000, now: Date.now() + 60_000 });
  t.same(
    [...later.removed].sort(),
    [...debris.filter((f) => !youngRemoved.includes(f)), 'objects/incoming-zz9'].sort(),
    'a minute later every piece of debris is stale',
  );
  for (const file of debris) t.notOk(fs.existsSync(path.join(gitdir, file)), `${file} is gone`);
  t.notOk(fs.existsSync(path.join(gitdir, 'objects/incoming-zz9')));

  t.ok(fs.existsSync(path.join(gitdir, loose)), 'the loose object is kept');
  t.same(
    fs
      .readdirSync(path.join(gitdir, 'objects/pack'))
      .filter((n) => n.endsWith('.pack') || n.endsWith('.idx'))
      .sort(),
    packs.sort(),
    'the indexed pack is kept',
  );
  t.equal((await runGit(['rev-parse', 'main'], { cwd: gitdir })).trim(), head);
  await runGit(['fsck', '--strict'], { cwd: gitdir });
  await runGit(['update-ref', 'refs/heads/main', head], { cwd: gitdir });

  t.same((await repairRepository(gitdir, { minLockAgeMs: 0 })).removed, [], 'a clean repository: nothing to remove');
});

t.test('a mirror whose pack indexes are garbage is fetched again from nothing on start', async (t) => {
  const { data, origin, logger, make, git } = await remoteSetup(t);
  const first = make();
  await first.start();
  await first.close();

  const packDir = path.join(data, 'mirror.git', 'objects', 'pack');
  const indexes = fs.readdirSync(packDir).filter((n) => n.endsWith('.idx'));
  t.ok(indexes.length > 0, 'the mirror holds packs');
  for (const name of indexes) fs.writeFileSync(path.join(packDir, name), Buffer.alloc(fs.statSync(path.join(packDir, name)).size, 0xa5));
  const moved = await commitFiles({ repo: origin, branch: 'main', files: { 'apps/Shop/main.js': 'shop v2\n' }, message: 'v2' });

  const second = make();
  // Made before the start, as the app makes it: it must follow the rebuilt mirror's new object
  // reader, not keep reading through the one that held the garbage indexes.
  const snapshots = createSnapshots(second);
  await second.start();
  t.equal(await second.headCommit(), moved);
  t.equal((await git('rev-parse', 'main')).trim(), moved);
  t.match(await snapshots.latest(), { commit: moved }, 'the snapshot is read from the rebuilt mirror');
  t.equal(dec(await second.readFile({ ref: moved, path: 'apps/Shop/main.js' })), 'shop v2\n', 'reads the origin files');
  t.match(
    logger.lines.find((l) => /the mirror is unusable/.test(l.msg ?? '')),
    { level: 'error' },
  );
  await runGit(['fsck', '--strict'], { cwd: path.join(data, 'mirror.git') });
});

// Known gap: when the remote has not moved, start's fetch looks up no object (every advertised tip
// is a local ref already), so the broken indexes go unnoticed and every read then fails with 500
// internal_error "unsupported pack index version" until a restart after the remote moves.
t.test('a mirror whose pack indexes are garbage, the remote unchanged, is fetched again on start', async (t) => {
  const { data, logger, make, git } = await remoteSetup(t);
  const first = make();
  await first.start();
  await first.close();
  const packDir = path.join(data, 'mirror.git', 'objects', 'pack');
  for (const name of fs.readdirSync(packDir).filter((n) => n.endsWith('.idx'))) fs.writeFileSync(path.join(packDir, name), Buffer.alloc(2048, 0xa5));

  const second = make();
  await second.start();
  const head = (await git('rev-parse', 'main')).trim();
  t.equal(await second.headCommit(), head);
  t.equal(dec(await second.readFile({ ref: head, path: 'apps/Shop/main.js' })), 'shop\n');
  t.ok(logger.lines.some((l) => /the mirror is unusable/.test(l.msg ?? '')));
});
