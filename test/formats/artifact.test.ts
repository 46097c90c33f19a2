import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import JSZip from 'jszip';
import t from 'tap';
import { readArtifact, readArtifactMetadata } from '../../src/formats/artifact-reader.js';
import { buildArtifact } from '../../src/formats/artifact-writer.js';
import { type ArtifactFile, compareBytewise, DEFAULT_ARTIFACT_LIMITS, sha256Hex } from '../../src/formats/artifact.js';
import { parseReleaseMetadata, type ReleaseMetadata, serializeReleaseMetadata } from '../../src/formats/release-metadata.js';
import { FILES, METADATA } from './fixtures/artifact-input.js';
import { caughtAsync } from './helpers.js';
import { craftZip, deflated, listHeaders, stored } from './zip-craft.js';
import { TS_NODE_ARGS } from '../helpers/child.js';

const text = (s: string) => new TextEncoder().encode(s);
const ARTIFACT_PATH = `dist/apps/${METADATA.element_uuid}/${METADATA.release_version}.zip`;
const sortedFiles = (files: readonly ArtifactFile[]) => [...files].sort((a, b) => compareBytewise(a.path, b.path));
/** Plain Uint8Arrays, so `t.same` compares bytes and not Buffer against Uint8Array. */
const plain = (files: readonly ArtifactFile[]) => files.map((f) => ({ path: f.path, bytes: Array.from(f.bytes) }));

t.test('the same input gives the same bytes, whatever its order', async (t) => {
  const first = await buildArtifact(FILES, METADATA);
  const second = await buildArtifact([...FILES].reverse(), { ...METADATA });
  t.equal(sha256Hex(second), sha256Hex(first));
  // A golden value: if a jszip or pako upgrade changes it, new builds of old releases stop
  // matching their artifacts byte for byte. Decide deliberately before updating it.
  t.equal(sha256Hex(first), 'ad629fd78010715e24a67ff264ff639528d117da72f3da4b14a2b2ddd1fb806a');
});

t.test('the bytes do not depend on the time zone', async (t) => {
  const expected = sha256Hex(await buildArtifact(FILES, METADATA));
  // Node re-reads the zone when process.env.TZ is assigned (https://nodejs.org/api/cli.html#tz).
  const saved = process.env.TZ;
  try {
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
      process.env.TZ = zone;
      t.not(new Date(Date.UTC(1980, 0, 1)).getHours(), 0, `${zone} is in effect`);
      t.equal(sha256Hex(await buildArtifact(FILES, METADATA)), expected, `built in ${zone}`);
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
  // And in a process started in another zone, in case a library reads the zone only once.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const child = fileURLToPath(new URL('./fixtures/build-artifact.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [...TS_NODE_ARGS, child], {
    cwd: root,
    env: { ...process.env, TZ: 'America/New_York' },
  });
  t.equal(stdout.trim(), expected, 'built by a process started in America/New_York');
});

t.test('entries: .release.json first, then byte order; dated 1980-01-01 00:00; deflated (empty: stored); mode 0644', async (t) => {
  const zip = await buildArtifact(FILES, METADATA);
  const { local, central } = listHeaders(zip);
  const expectedNames = ['.release.json', '-first', '.positions.json', '10', '2', 'lib/query1.js', 'src/main.rsx', 'é/naïve.txt'];
  t.same(
    local.map((h) => h.name),
    expectedNames,
    'local headers in order, no folder entries',
  );
  t.same(
    central.map((h) => h.name),
    expectedNames,
    'central directory in the same order',
  );
  for (const h of [...local, ...central]) {
    t.equal(h.time, 0, `${h.name}: 00:00:00`);
    t.equal(h.date, (0 << 9) | (1 << 5) | 1, `${h.name}: 1980-01-01`);
    t.equal(h.method, h.name === '-first' ? 0 : 8, `${h.name}: DEFLATE, or stored when empty`);
  }
  for (const h of central) t.equal(h.mode, 0o100644, `${h.name}: regular file 0644`);
});

t.test('.release.json is the metadata in a stable key order', async (t) => {
  const shuffled = Object.fromEntries(Object.entries(METADATA).reverse()) as unknown as ReleaseMetadata;
  const json = serializeReleaseMetadata({ ...shuffled, extra: 'dropped' } as ReleaseMetadata);
  t.equal(json, serializeReleaseMetadata(METADATA));
  t.equal(
    json,
    `{
  "format": 1,
  "element_uuid": "0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11",
  "element_type": "PAGE",
  "name": "Customer Dashboard",
  "release_version": "1.4.2",
  "release_description": "Dark mode",
  "created_at": "2024-10-08T11:45:48.899Z",
  "created_by": "release-bot",
  "source_commit": "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
  "source_tree": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
}
`,
  );
  const zip = await JSZip.loadAsync(await buildArtifact(FILES, METADATA));
  t.equal(await zip.file('.release.json')?.async('string'), json, 'an ordinary unzip reads the same text');
  t.same(parseReleaseMetadata(json), METADATA);
});

t.test('readArtifact returns what was built, and the metadata', async (t) => {
  const zip = await buildArtifact(FILES, METADATA);
  const artifact = await readArtifact(zip, { path: ARTIFACT_PATH });
  t.same(artifact.metadata, METADATA);
  t.same(plain(artifact.entries), plain(sortedFiles(FILES)));
  t.same(await readArtifactMetadata(zip), METADATA);
});

const segment = fc.stringMatching(/^[A-Za-z0-9 ._é-]{1,12}$/).filter((s) => s !== '.' && s !== '..' && s.toLowerCase() !== '.git' && !/^[A-Za-z]:/.test(s));
const filePath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
/** Unique paths where none is a folder of another, as in a git tree. */
const files = fc
  .uniqueArray(fc.record({ path: filePath, bytes: fc.uint8Array({ maxLength: 300 }) }), { selector: (f) => f.path, maxLength: 12 })
  .map((list) => list.filter((f) => f.path !== '.release.json' && !list.some((g) => g.path.startsWith(`${f.path}/`))));

t.test('property: readArtifact(buildArtifact(x)) is x, and building is deterministic', async (t) => {
  await fc.assert(
    fc.asyncProperty(files, async (input) => {
      const zip = await buildArtifact(input, METADATA);
      const again = await buildArtifact([...input].reverse(), METADATA);
      const read = await readArtifact(zip);
      return (
        sha256Hex(zip) === sha256Hex(again) &&
        JSON.stringify(read.metadata) === JSON.stringify(METADATA) &&
        JSON.stringify(plain(read.entries)) === JSON.stringify(plain(sortedFiles(input)))
      );
    }),
    { numRuns: 60 },
  );
  t.pass('round trip and determinism hold');
});

t.test('buildArtifact refuses what cannot be a safe artifact', async (t) => {
  const table: [string, ArtifactFile[], string, RegExp][] = [
    ['absolute', [{ path: '/etc/passwd', bytes: text('x') }], 'artifact_invalid', /is absolute/],
    ['parent', [{ path: 'a/../../b', bytes: text('x') }], 'artifact_invalid', /has a \.\. segment/],
    ['backslash', [{ path: 'a\\b', bytes: text('x') }], 'artifact_invalid', /backslash/],
    ['NUL', [{ path: 'a\0b', bytes: text('x') }], 'artifact_invalid', /NUL/],
    ['folder-like', [{ path: 'a/', bytes: text('x') }], 'artifact_invalid', /empty segment/],
    ['empty', [{ path: '', bytes: text('x') }], 'artifact_invalid', /is empty/],
    ['reserved', [{ path: '.release.json', bytes: text('{}') }], 'artifact_invalid', /reserved/],
    [
      'duplicate',
      [
        { path: 'a', bytes: text('1') },
        { path: 'a', bytes: text('2') },
      ],
      'artifact_invalid',
      /"a" appears twice/,
    ],
    [
      'file and folder',
      [
        { path: 'a', bytes: text('1') },
        { path: 'a/b', bytes: text('2') },
      ],
      'artifact_invalid',
      /"a" is both a file and a folder/,
    ],
    ['not bytes', [{ path: 'a', bytes: 'text' as unknown as Uint8Array }], 'artifact_invalid', /must be bytes/],
    [
      'too many',
      Array.from({ length: DEFAULT_ARTIFACT_LIMITS.maxEntries }, (_, i) => ({ path: `f${i}`, bytes: new Uint8Array(0) })),
      'artifact_too_large',
      /exceed 10000 entries/,
    ],
  ];
  for (const [what, input, code, reason] of table) {
    const error = await caughtAsync(() => buildArtifact(input, METADATA));
    t.match(error, { status: 422, code, details: { reason } }, what);
  }
  const bad = await caughtAsync(() => buildArtifact([], { ...METADATA, element_uuid: 'x', release_version: 'v1', source_tree: 'ABC', format: 2 as 1 }));
  t.match(bad, { status: 400, code: 'validation_failed' });
  t.same(
    (bad.details.errors as { field: string }[]).map((e) => e.field),
    ['metadata.format', 'metadata.element_uuid', 'metadata.release_version', 'metadata.source_tree'],
  );
});

// --- reading zips this service did not write -----------------------------------------------------

t.test('zips from other writers: no metadata, folder entries, data descriptors, stored entries', async (t) => {
  const zip = new JSZip();
  zip.file('app/main.rsx', '<App />');
  zip.file('app/lib/a.js', 'a', { compression: 'STORE' });
  zip.folder('app/empty');
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', streamFiles: true });
  const artifact = await readArtifact(bytes);
  t.equal(artifact.metadata, null, 'Retool-style zips carry no .release.json');
  t.same(
    artifact.entries.map((e) => [e.path, new TextDecoder().decode(e.bytes)]),
    [
      ['app/lib/a.js', 'a'],
      ['app/main.rsx', '<App />'],
    ],
  );
  t.equal(await readArtifactMetadata(bytes), null);
});

t.test('zip64 records are read', async (t) => {
  const zip = craftZip([deflated('a.txt', 'hello zip64'), stored('b/c.txt', 'stored')], { zip64: true });
  const artifact = await readArtifact(zip);
  t.same(
    artifact.entries.map((e) => [e.path, new TextDecoder().decode(e.bytes)]),
    [
      ['a.txt', 'hello zip64'],
      ['b/c.txt', 'stored'],
    ],
  );
});

t.test('an Info-ZIP Unicode Path field names the entry when the UTF-8 flag is off', async (t) => {
  const header = text('na?ve.txt');
  const { crc32 } = await import('node:zlib');
  const real = text('naïve.txt');
  const field = new Uint8Array(4 + 5 + real.length);
  const view = new DataView(field.buffer);
  view.setUint16(0, 0x7075, true);
  view.setUint16(2, 5 + real.length, true);
  field[4] = 1;
  view.setUint32(5, crc32(header), true);
  field.set(real, 9);
  const zip = craftZip([{ ...stored('x', 'content'), name: header, localName: header, extra: field }]);
  t.same(
    (await readArtifact(zip)).entries.map((e) => e.path),
    ['naïve.txt'],
  );
});

t.test('readArtifact refuses unsafe and corrupt zips with a reason', async (t) => {
  const ok = stored('ok.txt', 'fine');
  const metadataEntry = (value: unknown) => deflated('.release.json', typeof value === 'string' ? value : JSON.stringify(value));
  const rawName = (bytes: number[]) => ({ ...stored('x', 'x'), name: new Uint8Array(bytes), localName: new Uint8Array(bytes) });
  const good = await buildArtifact(FILES, METADATA);
  const patched = (zip: Uint8Array, edit: (view: DataView, eocd: number) => void) => {
    const copy = zip.slice();
    edit(new DataView(copy.buffer), copy.length - 22);
    return copy;
  };
  const extra = (id: number, size: number, body: number[] = []) => new Uint8Array([id & 0xff, id >> 8, size & 0xff, size >> 8, ...body]);
  const table: [string, Uint8Array, string, RegExp, object?][] = [
    ['multi-disk', patched(craftZip([ok]), (v, eocd) => v.setUint16(eocd + 4, 1, true)), 'artifact_invalid', /multi-disk/],
    [
      'zip64 count without records',
      patched(craftZip([ok]), (v, eocd) => (v.setUint16(eocd + 8, 0xffff, true), v.setUint16(eocd + 10, 0xffff, true))),
      'artifact_invalid',
      /zip64 end of central directory locator missing/,
    ],
    ['extra field overruns', craftZip([{ ...ok, extra: extra(0x5455, 200) }]), 'artifact_invalid', /corrupt extra fields/],
    ['zip64 size without zip64 field', craftZip([{ ...ok, uncompressedSize: 0xffffffff }]), 'artifact_invalid', /zip64 sizes without a zip64 extra field/],
    ['zip64 field too short', craftZip([{ ...ok, uncompressedSize: 0xffffffff, extra: extra(0x0001, 0) }]), 'artifact_invalid', /zip64 extra field too short/],
    ['not a zip', text('hello'), 'artifact_invalid', /no end of central directory record/],
    ['empty input', new Uint8Array(0), 'artifact_invalid', /no end of central directory record/],
    ['truncated', good.subarray(0, good.length - 30), 'artifact_invalid', /no end of central directory record/],
    ['central directory cut', good.subarray(100), 'artifact_invalid', /central directory lies outside the file/],
    ['absolute name', craftZip([stored('/etc/passwd', 'x')]), 'artifact_invalid', /entry name "\/etc\/passwd" is absolute/],
    ['parent name', craftZip([stored('../../x', 'x')]), 'artifact_invalid', /has a \.\. segment/],
    ['backslash name', craftZip([stored('..\\x', 'x')]), 'artifact_invalid', /backslash/],
    ['NUL in name', craftZip([rawName([0x61, 0x00, 0x62])]), 'artifact_invalid', /NUL/],
    ['drive letter', craftZip([stored('C:/x', 'x')]), 'artifact_invalid', /drive letter/],
    ['.git folder', craftZip([stored('.git/hooks/post-checkout', 'x')]), 'artifact_invalid', /\.git segment/],
    ['name not UTF-8', craftZip([rawName([0x61, 0xff])]), 'artifact_invalid', /not UTF-8/],
    ['duplicate names', craftZip([stored('a', '1'), stored('a', '2')]), 'artifact_invalid', /"a" appears twice/],
    ['file and folder', craftZip([stored('a', '1'), stored('a/b', '2')]), 'artifact_invalid', /"a" is both a file and a folder/],
    ['folder entry then file', craftZip([stored('a/', ''), stored('a', '2')]), 'artifact_invalid', /"a" is both a file and a folder/],
    ['folder with content', craftZip([stored('a/', 'x')]), 'artifact_invalid', /folder entry has content/],
    ['encrypted', craftZip([{ ...ok, flags: 1 }]), 'artifact_invalid', /encrypted/],
    ['bzip2', craftZip([{ ...ok, method: 12 }]), 'artifact_invalid', /compression method 12/],
    ['local name differs', craftZip([{ ...ok, localName: '../../evil' }]), 'artifact_invalid', /local header names another file/],
    [
      'overlapping entries',
      craftZip([stored('a', 'x', { compressedSize: 50, uncompressedSize: 50 }), stored('b', 'y'.repeat(100))]),
      'artifact_invalid',
      /entries "a" and "b" overlap/,
    ],
    [
      'data past the directory',
      craftZip([stored('a', 'x', { compressedSize: 50, uncompressedSize: 50 })]),
      'artifact_invalid',
      /entry data lies outside the file/,
    ],
    ['entry count lies', craftZip([ok], { declaredCount: 2 }), 'artifact_invalid', /central directory entry 1 is corrupt/],
    ['stored sizes differ', craftZip([{ ...ok, uncompressedSize: 3 }]), 'artifact_invalid', /different compressed and uncompressed sizes/],
    ['bad CRC', craftZip([{ ...ok, crc: 1 }]), 'artifact_invalid', /CRC-32/],
    ['declares more than it holds', craftZip([deflated('a', 'abc', { uncompressedSize: 10 })]), 'artifact_invalid', /holds 3 bytes but declares 10/],
    ['not deflate data', craftZip([{ ...ok, method: 8, uncompressedSize: 4 }]), 'artifact_invalid', /does not inflate/],
    [
      'inflates past its declared size',
      craftZip([deflated('a', 'abcdefgh', { uncompressedSize: 4 })]),
      'artifact_too_large',
      /more than the 4 bytes it declares/,
      { limit: 'entry_bytes', max: 4, entry: 'a' },
    ],
    ['metadata not JSON', craftZip([metadataEntry('{nope')]), 'artifact_invalid', /\.release\.json is not valid UTF-8 JSON/],
    ['metadata format 2', craftZip([metadataEntry({ ...METADATA, format: 2 })]), 'artifact_invalid', /has format 2; this service reads format 1/],
    [
      'metadata field wrong',
      craftZip([metadataEntry({ ...METADATA, created_at: 'yesterday' })]),
      'artifact_invalid',
      /created_at must be an ISO 8601 timestamp/,
    ],
    [
      'metadata too big',
      craftZip([deflated('.release.json', ' '.repeat(1024 * 1024 + 1))]),
      'artifact_too_large',
      /declares 1048577 bytes/,
      { limit: 'metadata_bytes' },
    ],
  ];
  for (const [what, zip, code, reason, more] of table) {
    const error = await caughtAsync(() => readArtifact(zip));
    t.match(error, { status: 422, code, details: { reason, ...more } }, what);
  }
  const elsewhere = await caughtAsync(() => readArtifact(good, { path: `dist/apps/${METADATA.element_uuid}/9.9.9.zip` }));
  t.match(error422(elsewhere), { code: 'artifact_invalid', details: { path: /9\.9\.9\.zip$/, reason: /not the element and version of its path/ } });
  t.match(
    await caughtAsync(() => readArtifactMetadata(good, { path: `dist/workflows/${METADATA.element_uuid}/1.4.2.zip` })),
    { code: 'artifact_invalid', details: { reason: /describes PAGE/ } },
    'the metadata-only read checks the path too',
  );
});

function error422<T extends { status: number }>(error: T): T {
  if (error.status !== 422) throw new Error(`expected 422, got ${error.status}`);
  return error;
}

t.test('limits: entry count and declared sizes are checked before inflating', async (t) => {
  const three = craftZip([stored('a', 'aaaa'), stored('b', 'bbbb'), stored('c', 'cccc')]);
  t.match(await caughtAsync(() => readArtifact(three, { maxEntries: 2 })), {
    code: 'artifact_too_large',
    details: { limit: 'entries', max: 2, reason: /has 3 entries/ },
  });
  t.match(await caughtAsync(() => readArtifact(three, { maxEntryBytes: 3 })), {
    code: 'artifact_too_large',
    details: { limit: 'entry_bytes', max: 3, entry: 'a' },
  });
  t.match(await caughtAsync(() => readArtifact(three, { maxTotalBytes: 11, path: 'dist/x.zip' })), {
    code: 'artifact_too_large',
    details: { limit: 'total_bytes', max: 11, path: 'dist/x.zip' },
    message: /^Artifact too large \(dist\/x\.zip\): /,
  });
  t.equal((await readArtifact(three, { maxEntries: 3, maxEntryBytes: 4, maxTotalBytes: 12 })).entries.length, 3, 'exactly at the limits is fine');
  t.match(await caughtAsync(() => readArtifact(three, { maxEntries: -1 })), { code: 'validation_failed' });
});

t.test('readArtifactMetadata inflates nothing but .release.json', async (t) => {
  // The second entry is corrupt: reading it would fail, so success proves it was not inflated.
  const zip = craftZip([deflated('.release.json', serializeReleaseMetadata(METADATA)), { ...stored('big', 'x'), method: 8, uncompressedSize: 1 }]);
  t.same(await readArtifactMetadata(zip), METADATA);
  t.match(await caughtAsync(() => readArtifact(zip)), { code: 'artifact_invalid', details: { entry: 'big' } });
});

t.test('property: arbitrary bytes never crash the reader', async (t) => {
  const good = await buildArtifact(FILES.slice(0, 3), METADATA);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.record({ at: fc.nat({ max: good.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }).map((edits) => {
          const copy = good.slice();
          for (const e of edits) copy[e.at] = e.byte;
          return copy;
        }),
      ),
      async (bytes) => {
        try {
          await readArtifact(bytes);
          return true;
        } catch (error) {
          return (error as { status?: number }).status === 422;
        }
      },
    ),
    { numRuns: 400 },
  );
  t.pass('only results or 422s');
});
