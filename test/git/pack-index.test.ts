// The pack indexer must produce exactly the .idx native git writes for the same pack.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { createObjectStore } from '../../src/git/object-store.js';
import { applyDelta, sizeAt } from '../../src/git/pack-entry.js';
import { PackIdx, readIdxOffsets } from '../../src/git/pack-idx.js';
import { indexPack, PackStreamIndexer } from '../../src/git/pack-index.js';
import { waitForTurn } from '../../src/runtime/event-loop.js';
import { commitFiles, createBareRepo, runGit, tempDir } from '../helpers/git-server.js';

/** Repacks `repo` into one pack (with `argv`), and reads it and the .idx git wrote for it. */
async function repackedPack(repo: string, argv: readonly string[] = ['repack', '-a', '-d', '-q']): Promise<{ pack: Buffer; native: Buffer; packPath: string }> {
  await runGit(argv, { cwd: repo });
  const packDir = path.join(repo, 'objects', 'pack');
  const packPath = path.join(
    packDir,
    (await readdir(packDir)).find((n) => n.endsWith('.pack'))!,
  );
  return { pack: await readFile(packPath), native: await readFile(packPath.replace(/\.pack$/, '.idx')), packPath };
}

/** The lines of `git verify-pack -v` that describe deltas (they name a depth and a base). */
async function deltaLines(packPath: string): Promise<string[]> {
  return (await runGit(['verify-pack', '-v', packPath])).split('\n').filter((l) => l.trim().split(/\s+/).length === 7);
}

t.test('indexes a deltified pack byte for byte like git index-pack', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`apps/a${i}/main.js`] = `// app ${i}\n${'const x = 1;\n'.repeat(200 + i)}`;
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  // Similar versions of the same files: git stores most of them as deltas (ofs-delta by default).
  for (let round = 0; round < 3; round++) {
    const changed: Record<string, string> = {};
    for (let i = 0; i < 40; i += 3) changed[`apps/a${i}/main.js`] = `${files[`apps/a${i}/main.js`]}// round ${round}\n`;
    await commitFiles({ repo, branch: 'main', files: changed, message: `round ${round}` });
  }
  const { pack, native, packPath } = await repackedPack(repo, ['repack', '-a', '-d', '-f', '-q']);

  const indexed = indexPack(pack);
  t.equal(Buffer.compare(indexed.idx, native), 0, 'the same .idx as git');
  // With no room to keep bases, every delta's base is inflated again from the pack.
  t.equal(Buffer.compare(indexPack(pack, { baseCacheBytes: 0 }).idx, native), 0, 'the same .idx with no base cache');
  t.equal(`pack-${indexed.checksum}.pack`, path.basename(packPath));
  const deltas = await deltaLines(packPath);
  t.ok(deltas.length > 10, `the pack holds deltas (${deltas.length})`);
  const offsets = readIdxOffsets(native);
  const lookup = new PackIdx(native);
  t.equal(lookup.size, indexed.objects.length);
  t.equal(lookup.offsetOf('0'.repeat(40)), undefined);
  t.equal(lookup.offsetOf('f'.repeat(40)), undefined);
  for (const object of indexed.objects) {
    t.equal(offsets.get(object.oid), object.offset);
    if (lookup.offsetOf(object.oid) !== object.offset) t.fail(`PackIdx offset of ${object.oid}`);
    if (sizeAt(pack, object.offset) !== object.size) t.fail(`size of ${object.oid}`);
  }
  const sizes = new Map(
    (await runGit(['cat-file', '--batch-check=%(objectname) %(objectsize)', '--batch-all-objects'], { cwd: repo }))
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  t.same(new Map(indexed.objects.map((o) => [o.oid, String(o.size)])), sizes, 'sizes as git reports them');

  // The object store reads deltified entries (chains of ofs-deltas) as git does: from the pack
  // read whole, and from the file read by range (as it reads packs too large to hold).
  const tree = (await runGit(['rev-parse', 'main^{tree}'], { cwd: repo })).trim();
  for (const [how, store] of [
    ['whole', createObjectStore(repo)],
    ['by range', createObjectStore(repo, { wholePackBytes: 0 })],
  ] as const) {
    for (const line of deltas.slice(0, 15)) {
      const [oid, type] = line.trim().split(/\s+/) as [string, string];
      if (type !== 'blob') continue;
      t.equal(Buffer.from(await store.readBlob(oid)).toString(), await runGit(['cat-file', 'blob', oid], { cwd: repo }), `${how}: blob ${oid}`);
      t.equal(await store.objectSize(oid), Number(sizes.get(oid)));
    }
    const some = [...sizes.keys()].slice(0, 40);
    t.same(
      await store.objectSizes(some),
      some.map((oid) => Number(sizes.get(oid))),
      `${how}: sizes, deltas among them`,
    );
    t.same(
      (await store.readTree(tree)).map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.path}`).join('\n'),
      (await runGit(['ls-tree', tree], { cwd: repo })).trim(),
    );
  }
});

t.test('indexes ref-deltas, whose base is named by oid, like git index-pack', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `${i}\n${'line of text\n'.repeat(300 + i)}`;
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  const changed = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, `${v}more\n`]));
  await commitFiles({ repo, branch: 'main', files: changed, message: 'more' });
  const { pack, native, packPath } = await repackedPack(repo, ['-c', 'repack.useDeltaBaseOffset=false', 'repack', '-a', '-d', '-f', '-q']);
  t.ok((await deltaLines(packPath)).length > 10, 'the pack holds deltas');
  for (const baseCacheBytes of [undefined, 0]) {
    const indexed = indexPack(pack, { baseCacheBytes });
    t.equal(Buffer.compare(indexed.idx, native), 0, `the same .idx as git (base cache ${baseCacheBytes ?? 'default'})`);
  }
});

t.test('refuses a thin pack, whose deltas name bases it does not hold', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`f${i}.txt`] = `${i}\n${'line of text\n'.repeat(300)}`;
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  await commitFiles({ repo, branch: 'main', files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, `${v}more\n`])), message: 'more' });
  // Only a pack sent over the wire may be thin (git refuses to write one as a file).
  const pack = execFileSync('git', ['pack-objects', '--revs', '--thin', '--stdout', '-q'], { cwd: repo, input: 'main\n^main~1\n' });
  t.throws(() => indexPack(pack), /deltas have no base in the pack \(a thin pack\?\)/);
});

t.test('a pack whose zlib streams are longer than zlib would write is still indexed and read', async (t) => {
  // Another encoder may write longer streams than zlib's bound: here one stored block per byte.
  const content = Buffer.from('a blob from a generous encoder\n'.repeat(4));
  const blocks = [Buffer.from([0x78, 0x01])];
  for (let i = 0; i < content.length; i++) blocks.push(Buffer.from([i === content.length - 1 ? 1 : 0, 1, 0, 0xfe, 0xff]), content.subarray(i, i + 1));
  const adler = Buffer.alloc(4);
  let a = 1;
  let b = 0;
  for (const byte of content) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  const stream = Buffer.concat([...blocks, adler]);
  t.same(zlib.inflateSync(stream), content, 'a valid zlib stream');
  t.ok(stream.length > content.length + 64, `${stream.length} bytes for ${content.length}`);
  // Pack header, one blob entry (type 3, size as a varint after 4 bits), the stream, the trailer.
  const head = Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]);
  const size = content.length;
  const entry = Buffer.from([0x80 | (3 << 4) | (size & 0x0f), size >> 4]);
  const body = Buffer.concat([head, entry, stream]);
  const pack = Buffer.concat([body, createHash('sha1').update(body).digest()]);
  const oid = createHash('sha1').update(`blob ${size}\0`).update(content).digest('hex');

  const indexed = indexPack(pack);
  t.equal(indexed.objects[0]?.oid, oid);
  for (const piece of [1, 7, 64]) {
    const indexer = new PackStreamIndexer();
    for (let at = 0; at < pack.length; at += piece) indexer.push(pack.subarray(at, at + piece));
    t.equal(Buffer.compare(indexer.finish().idx, indexed.idx), 0, `arriving in pieces of ${piece}`);
  }

  const dir = await tempDir();
  t.teardown(dir.remove);
  const repo = await createBareRepo({ root: dir.path, name: 'r' });
  const packDir = path.join(repo, 'objects', 'pack');
  await mkdir(packDir, { recursive: true });
  await writeFile(path.join(packDir, `pack-${indexed.checksum}.pack`), pack);
  await writeFile(path.join(packDir, `pack-${indexed.checksum}.idx`), indexed.idx);
  t.equal(await runGit(['cat-file', 'blob', oid], { cwd: repo }), content.toString(), 'git reads it too');
  for (const wholePackBytes of [undefined, 0]) {
    const store = createObjectStore(repo, { wholePackBytes });
    t.equal(Buffer.from(await store.readBlob(oid)).toString(), content.toString(), `read ${wholePackBytes === 0 ? 'by range' : 'whole'}`);
    t.equal(await store.objectSize(oid), size);
  }
});

t.test('entries of a MiB and more read as git reads them, whole and by range', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // Hex text: compressible enough to deflate, not to a few bytes; 1.5 MiB and 3 MiB of it.
  const big = randomBytes(768 * 1024).toString('hex');
  const bigger = `${big}${randomBytes(768 * 1024).toString('hex')}`;
  const files = { 'big.txt': big, 'bigger.txt': bigger, 'small.txt': 'small\n' };
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  await commitFiles({ repo, branch: 'main', files: { 'big.txt': `${big.slice(0, 1000)}changed${big.slice(1000)}` }, message: 'edit' });
  await repackedPack(repo);
  const oids = (await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)', '--batch-all-objects'], { cwd: repo }))
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string, string])
    .filter(([, type, size]) => type === 'blob' && Number(size) >= 1024 * 1024);
  t.equal(oids.length, 3, 'three blobs of a MiB or more');
  for (const wholePackBytes of [undefined, 0]) {
    const store = createObjectStore(repo, { wholePackBytes });
    for (const [oid, , size] of oids) {
      const read = Buffer.from(await store.readBlob(oid));
      t.equal(read.length, Number(size));
      t.equal(createHash('sha1').update(`blob ${size}\0`).update(read).digest('hex'), oid, `${wholePackBytes === 0 ? 'by range' : 'whole'}: ${oid}`);
    }
  }
});

t.test('rejects corrupt packs', async (t) => {
  t.throws(() => indexPack(Buffer.from('nope')), /not a pack/);
  const dir = await tempDir();
  t.teardown(dir.remove);
  const repo = await createBareRepo({ root: dir.path, name: 'r', files: { a: 'a\n' } });
  const { pack } = await repackedPack(repo);
  const flipped = Buffer.from(pack);
  flipped[20] = flipped[20]! ^ 0xff;
  t.throws(() => indexPack(flipped), 'a damaged object');
  const badTrailer = Buffer.from(pack);
  badTrailer[badTrailer.length - 1] = badTrailer[badTrailer.length - 1]! ^ 0xff;
  t.throws(() => indexPack(badTrailer), /checksum/);
  t.throws(() => indexPack(pack.subarray(0, pack.length - 30)), /truncated|trailing|after its last|end of file/);
});

t.test('indexing while the pack arrives in small pieces gives the same result', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) files[`f${i}.txt`] = `${i}\n${'abcdefgh'.repeat(1000 + i * 50)}`;
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  const { pack, native, packPath } = await repackedPack(repo);
  t.ok((await deltaLines(packPath)).length > 10, 'the pack holds deltas');
  for (const piece of [1, 7, 100, 4096, 300_000]) {
    // With no base cache, delta bases are read back from the pieces kept (across pieces).
    for (const baseCacheBytes of [undefined, 0]) {
      const indexer = new PackStreamIndexer({ baseCacheBytes });
      for (let at = 0; at < pack.length; at += piece) indexer.push(pack.subarray(at, at + piece));
      const indexed = indexer.finish();
      t.equal(Buffer.compare(indexed.idx, native), 0, `pieces of ${piece} bytes, base cache ${baseCacheBytes ?? 'default'}`);
      t.equal(Buffer.compare(Buffer.concat(indexed.pack.pieces), pack), 0, 'the pack is the pieces kept');
      // Ranges within a piece and across pieces read as the pack does.
      const ranges = [
        [0, 12],
        [5, 5 + 3 * piece],
        [pack.length - 20, pack.length],
        [piece - 1, piece + 1],
      ].filter(([, end]) => end! <= pack.length);
      for (const [start, end] of ranges as [number, number][]) {
        if (Buffer.compare(indexed.pack.subarray(start, end), pack.subarray(start, end)) !== 0) t.fail(`bytes ${start}..${end}`);
      }
      t.throws(() => indexer.push(Buffer.from('more')), /indexed already/);
      t.throws(() => indexed.pack.subarray(0, pack.length + 1), RangeError);
    }
  }
});

t.test('indexing a pack larger than the parse window, in pieces of every size, gives the same result', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // Barely compressible content: 20 objects of ~40 KiB and one of ~800 KiB, more than the window holds.
  const files: Record<string, string> = { 'big.txt': randomBytes(600_000).toString('base64') };
  for (let i = 0; i < 20; i++) files[`f${i}.txt`] = randomBytes(30_000).toString('base64');
  const repo = await createBareRepo({ root: dir.path, name: 'r', files });
  const { pack, native } = await repackedPack(repo);
  t.ok(pack.length > 1_000_000, `a pack of ${pack.length} bytes`);
  for (const piece of [997, 16_384, 65_536, 300_001, pack.length]) {
    const indexer = new PackStreamIndexer();
    for (let at = 0; at < pack.length; at += piece) indexer.push(pack.subarray(at, at + piece));
    const indexed = indexer.finish();
    t.equal(Buffer.compare(indexed.idx, native), 0, `pieces of ${piece} bytes`);
    t.equal(Buffer.compare(indexed.pack.subarray(100, pack.length - 100), pack.subarray(100, pack.length - 100)), 0);
  }
});

t.test('applyDelta copies and inserts, and checks sizes', async (t) => {
  const base = Buffer.from('hello world');
  // base size 11, result size 11: copy "hello " (offset 0, length 6), insert "there"
  const delta = Buffer.from([11, 11, 0x90, 6, 5, ...Buffer.from('there')]);
  t.equal(applyDelta(delta, base).toString(), 'hello there');
  t.throws(() => applyDelta(Buffer.from([12, 1, 1, 0x41]), base), /base size/);
  t.throws(() => applyDelta(Buffer.from([11, 1, 0]), base), /reserved/);
});

t.test('a pack read by range: entries past the read-ahead, deltas of them, many reads at once', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // Incompressible content, so each version's entry is ~100 KB: more than one read's worth.
  const big = randomBytes(50_000).toString('hex');
  const repo = await createBareRepo({ root: dir.path, name: 'r', files: { 'big.txt': big, 'small.txt': 'small\n' } });
  for (let round = 0; round < 3; round++)
    await commitFiles({ repo, branch: 'main', files: { 'big.txt': `${big}round ${round}\n` }, message: `round ${round}` });
  const { packPath } = await repackedPack(repo, ['repack', '-a', '-d', '-f', '-q']);
  t.ok((await deltaLines(packPath)).length > 0, 'the versions are deltas of one another');
  const objects = (await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)', '--batch-all-objects'], { cwd: repo }))
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string, string]);
  const blobs = objects.filter(([, type]) => type === 'blob');
  t.ok(blobs.filter(([, , size]) => Number(size) >= 100_000).length >= 4, 'four large blobs');
  const store = createObjectStore(repo, { wholePackBytes: 0 });
  const read = await Promise.all(blobs.map(async ([oid]) => Buffer.from(await store.readBlob(oid)).toString()));
  for (const [i, [oid]] of blobs.entries()) t.equal(read[i], await runGit(['cat-file', 'blob', oid], { cwd: repo }), `blob ${oid}`);
  t.same(
    await store.objectSizes(objects.map(([oid]) => oid)),
    objects.map(([, , size]) => Number(size)),
    'every size, read from the headers',
  );
});

t.test('reads at once of versions whose delta chains share bases resolve each pack entry once', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // One file in twelve versions, each a few lines longer: git keeps one whole and the others as
  // deltas of it or of one another.
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `entry ${i}: ${createHash('sha1').update(String(i)).digest('hex')}\n`).join('');
  const repo = await createBareRepo({ root: dir.path, name: 'r', files: { 'm.yaml': lines(400) } });
  for (let round = 1; round < 12; round++) await commitFiles({ repo, branch: 'main', files: { 'm.yaml': lines(400 + round * 5) }, message: `round ${round}` });
  const { packPath } = await repackedPack(repo, ['repack', '-a', '-d', '-f', '-q', '--depth=50']);
  const blobs = (await runGit(['log', '--format=%H', 'main'], { cwd: repo }))
    .trim()
    .split('\n')
    .map((commit) => runGit(['rev-parse', `${commit}:m.yaml`], { cwd: repo }).then((oid) => oid.trim()));
  const oids = await Promise.all(blobs);
  const deltas = (await deltaLines(packPath)).filter((line) => oids.includes(line.trim().split(/\s+/)[0]!));
  // verify-pack's columns: oid, type, size, size in pack, offset, depth, base.
  const bases = deltas.map((line) => line.trim().split(/\s+/)[6]!);
  t.ok(deltas.length >= 6 && new Set(bases).size < bases.length, `deltas that share bases (${deltas.length} deltas, ${new Set(bases).size} bases)`);

  for (const [how, store] of [
    ['whole', createObjectStore(repo)],
    ['by range', createObjectStore(repo, { wholePackBytes: 0 })],
  ] as const) {
    // Oldest first: each delta asks for the base before any read has resolved it.
    const read = await Promise.all(oids.toReversed().map(async (oid) => Buffer.from(await store.readBlob(oid)).toString()));
    read.reverse();
    for (const [i, oid] of oids.entries()) t.equal(read[i], await runGit(['cat-file', 'blob', oid], { cwd: repo }), `${how}: blob ${oid}`);
    const bases = store.cacheStats().find((c) => c.name === 'git_delta_bases')!;
    // Each version is one pack entry, and every chain is made of versions: twelve resolutions,
    // the other reads of them shared (before, each read resolved its whole chain for itself: 23
    // for eleven deltas of one base and the base).
    t.equal(bases.misses, oids.length, `${how}: one resolution per entry`);
  }
});

t.test('reads at once of entries of a MiB and more inflate each in a turn of the event loop of its own', async (t) => {
  const dir = await tempDir();
  t.teardown(dir.remove);
  // Four blobs of 1.2 MB that deflate to little, so inflating all four takes a few ms (under the
  // 10 ms slice: a look at the clock alone would never wait), packed without deltas.
  const files = Object.fromEntries(['a', 'b', 'c', 'd'].map((name, i) => [`${name}.txt`, `${name} ${'x'.repeat(1_200_000 + i)}\n`]));
  const repo = await createBareRepo({ root: dir.path, name: 'r', files: { ...files, 'small.txt': 'small\n' } });
  const { packPath } = await repackedPack(repo, ['repack', '-a', '-d', '-f', '-q', '--window=0']);
  t.same(await deltaLines(packPath), [], 'no deltas');
  const oid = async (file: string) => (await runGit(['rev-parse', `main:${file}`], { cwd: repo })).trim();
  const large = await Promise.all(Object.keys(files).map(oid));

  for (const [how, wholePackBytes] of [
    ['whole', undefined],
    ['by range', 0],
  ] as const) {
    const store = createObjectStore(repo, { wholePackBytes });
    await store.readBlob(await oid('small.txt')); // the pack opened, its index loaded: no I/O below
    await waitForTurn(); // a fresh slice: the looks at the clock after each entry find it not over
    let turns = 0;
    let counting = true;
    const count = () => {
      turns++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const read = await Promise.all(large.map((blob) => store.readBlob(blob)));
    counting = false;
    t.same(
      read.map((bytes) => bytes.length),
      Object.values(files).map((text) => text.length),
      `${how}: read whole`,
    );
    // Each read waits for a turn before its inflate (one waiting read resumes a turn); before, the
    // four inflated in the turn they started in, and resolved in it: 0 turns.
    t.ok(turns >= large.length, `${how}: ${turns} turns for ${large.length} inflates of a MiB and more`);
  }
});

t.test('applyDelta: short and long copies, as git writes them for a tree', async (t) => {
  const base = randomBytes(70_000);
  // Copies of 1..40 bytes (a loop below 32), one of 0x10000 (encoded as length 0), and inserts.
  const ops: number[] = [];
  const expected: Buffer[] = [];
  let offset = 0;
  for (let length = 1; length <= 40; length++) {
    ops.push(0x80 | 0x01 | 0x02 | 0x10, offset & 0xff, (offset >> 8) & 0xff, length);
    expected.push(base.subarray(offset, offset + length));
    offset += 97;
  }
  ops.push(0x80 | 0x30, 0x00, 0x00); // offset 0, length bytes 0: 0x10000
  expected.push(base.subarray(0, 0x10000));
  ops.push(3, 0x61, 0x62, 0x63);
  expected.push(Buffer.from('abc'));
  const result = Buffer.concat(expected);
  const varint = (n: number) => {
    const bytes: number[] = [];
    do {
      bytes.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return bytes;
  };
  const delta = Buffer.from([...varint(base.length), ...varint(result.length), ...ops]);
  t.equal(Buffer.compare(applyDelta(delta, base), result), 0, 'the copies and the insert, in order');
});
