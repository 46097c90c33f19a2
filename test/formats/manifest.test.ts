import fc from 'fast-check';
import t from 'tap';
import { printCanonical } from '../../src/formats/manifest-canonical.js';
import { AppError } from '../../src/errors.js';
import type { Manifest, ManifestEntry } from '../../src/formats/manifest-canonical.js';
import { diffManifests, manifestToJson, parseManifestEntries } from '../../src/formats/manifest-entries.js';
import { createManifest, parseManifest, readCanonicalManifest } from '../../src/formats/manifest-file.js';
import { caught, invalidField } from './helpers.js';

const A = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';
const B = '5b0e2a4f-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const C = 'c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8';
const W = '8079edae-d5c2-46de-b5bb-153249e8463f';
const PATH = 'manifests/prod.yaml';

const HAND_WRITTEN = `# Production. Ask #releases before touching this file.
version: 1.0.0          # file-format version, not a release
name: prod
owner: platform-team    # not ours: must survive rewrites
apps:
  - uuid: ${B}
    release: 1.4.2      # pinned: 1.5 breaks the export
  - uuid: ${A}
    release: latest
    note: kept as-is
workflows:
  - uuid: ${W}
    release: 2.0.0
# end of file
`;

t.test('parses a hand-written manifest into its entries, sorted by uuid', async (t) => {
  const file = parseManifest(HAND_WRITTEN, PATH);
  t.equal(file.path, PATH);
  t.equal(file.name, 'prod');
  t.same(file.manifest, {
    version: '1.0.0',
    name: 'prod',
    apps: [
      { uuid: A, release: 'latest' },
      { uuid: B, release: '1.4.2' },
    ],
    workflows: [{ uuid: W, release: '2.0.0' }],
  });
  t.same(file.getEntry('PAGE', B.toUpperCase()), { uuid: B, release: '1.4.2' }, 'lookups ignore uuid case');
  t.equal(file.getEntry('WORKFLOW', B), null, 'an app uuid is not a workflow');
  t.same(manifestToJson(file), {
    name: 'prod',
    apps: [
      { uuid: A, release: 'latest' },
      { uuid: B, release: '1.4.2' },
    ],
    workflows: [{ uuid: W, release: '2.0.0' }],
  });
});

t.test('a rewrite keeps comments, unknown keys and order, and sorts entries', async (t) => {
  const file = parseManifest(HAND_WRITTEN, PATH);
  t.equal(file.setEntry('PAGE', B, '1.4.3'), '1.4.2');
  t.equal(file.setEntry('PAGE', C, '0.1.0'), null);
  t.equal(file.removeEntry('WORKFLOW', W), '2.0.0');
  t.equal(file.removeEntry('WORKFLOW', W), null, 'removing twice finds nothing');
  t.equal(
    file.toString(),
    `# Production. Ask #releases before touching this file.
version: 1.0.0 # file-format version, not a release
name: prod
owner: platform-team # not ours: must survive rewrites
apps:
  - uuid: ${A}
    release: latest
    note: kept as-is
  - uuid: ${B}
    release: 1.4.3 # pinned: 1.5 breaks the export
  - uuid: ${C}
    release: 0.1.0
workflows: []

# end of file
`,
  );
});

t.test('canonical text is returned byte for byte', async (t) => {
  const canonical = parseManifest(HAND_WRITTEN, PATH).toString();
  t.equal(parseManifest(canonical, PATH).toString(), canonical);
  t.equal(new TextDecoder().decode(parseManifest(new TextEncoder().encode(canonical), PATH).toBytes()), canonical);
  const empty = createManifest('dev');
  t.equal(empty.toString(), 'version: 1.0.0\nname: dev\napps: []\nworkflows: []\n');
  t.equal(empty.path, 'manifests/dev.yaml');
});

t.test('what parsing normalizes', async (t) => {
  const file = parseManifest(`name: prod\napps: [{uuid: ${A.toUpperCase()}, release: "1.0.0"}]\nworkflows:\n`, PATH);
  t.equal(
    file.toString(),
    `version: 1.0.0\nname: prod\napps:\n  - uuid: ${A}\n    release: 1.0.0\nworkflows: []\n`,
    'version added, flow list made block, uuid lowercased, quotes dropped, empty list written []',
  );
  t.same(parseManifest('version: 1.0.0\nname: prod\n', PATH).manifest, { version: '1.0.0', name: 'prod', apps: [], workflows: [] });
  t.equal(parseManifest('version: 1.2.0\nname: prod\n', PATH).formatVersion, '1.2.0', 'a newer 1.x format version is kept');
  t.equal(parseManifest('name: x\n', 'previews/x.txt').name, 'x', 'no name check outside manifests/');
  const numeric = parseManifest('name: 12\n', 'manifests/12.yaml');
  t.equal(numeric.name, '12', 'a name YAML reads as a number is taken as written');
  t.equal(numeric.toString(), 'version: 1.0.0\nname: "12"\napps: []\nworkflows: []\n', 'and quoted on rewrite');
  t.equal(createManifest('true').toString(), 'version: 1.0.0\nname: "true"\napps: []\nworkflows: []\n');
  t.equal(parseManifest('name: null\n', 'manifests/null.yaml').name, 'null');
});

t.test('every reason a manifest is refused, with its line', async (t) => {
  const entry = (release: string, uuid = A) => `  - uuid: ${uuid}\n    release: ${release}\n`;
  const table: [string, string, number, RegExp][] = [
    ['empty file', '', 1, /^is empty$/],
    ['only a comment', '# nothing\n', 1, /^is empty$/],
    ['bad YAML', 'name: prod\napps: [\n', 3, /^invalid YAML: /],
    ['bad escape', 'name: "pr\\qod"\n', 1, /^invalid YAML: Invalid escape/],
    ['duplicate key', 'name: prod\nname: prod\n', 2, /^invalid YAML: Map keys must be unique/],
    ['two documents', 'name: prod\n---\nname: prod\n', 2, /^invalid YAML: Source contains multiple documents/],
    ['not a mapping', '- prod\n', 1, /^must be a mapping/],
    ['a scalar', 'prod\n', 1, /^must be a mapping/],
    ['missing name', 'version: 1.0.0\napps: []\n', 1, /^missing name$/],
    ['empty name', 'name:\n', 1, /^name must be .* got nothing$/],
    ['bad name', 'version: 1.0.0\nname: Prod\n', 2, /^name must be .* got "Prod"$/],
    ['a float for a name', 'name: 1.5\n', 1, /^name must be .* got "1\.5"$/],
    ['a quoted bad name', 'name: "a b"\n', 1, /^name must be .* got "\\"a b\\""$/],
    ['name of another file', 'name: dev\n', 1, /^name "dev" does not match the file name manifests\/prod\.yaml$/],
    ['version 2', 'version: 2.0.0\nname: prod\n', 1, /^unsupported file-format version 2\.0\.0/],
    ['version not a version', 'version: 1.0\nname: prod\n', 1, /^version must be the file-format version 1\.0\.0, got "1\.0"$/],
    ['apps a scalar', 'name: prod\napps: 3\n', 2, /^apps must be a list/],
    ['workflows a mapping', 'name: prod\nworkflows:\n  a: 1\n', 3, /^workflows must be a list/],
    ['entry not a mapping', 'name: prod\napps:\n  - x\n', 3, /^apps\[0\] must be a mapping with uuid and release$/],
    ['entry missing uuid', 'name: prod\napps:\n  - release: 1.0.0\n', 3, /^apps\[0\] is missing uuid$/],
    ['entry missing release', `name: prod\napps:\n${entry('1.0.0')}  - uuid: ${B}\n`, 5, /^apps\[1\] is missing release$/],
    ['bad uuid', `name: prod\nworkflows:\n  - uuid: 1234\n    release: 1.0.0\n`, 3, /^workflows\[0\]\.uuid must be a UUID, got "1234"$/],
    ['release a number', `name: prod\napps:\n${entry('1.0')}`, 4, /^apps\[0\]\.release must be a version X\.Y\.Z or latest, got "1\.0"$/],
    ['release with a v', `name: prod\napps:\n${entry('v1.0.0')}`, 4, /got "v1\.0\.0"$/],
    ['release empty', `name: prod\napps:\n${entry('')}`, 4, /^apps\[0\]\.release must be a version X\.Y\.Z or latest, got nothing$/],
    ['release a list', `name: prod\napps:\n${entry('[1.0.0]')}`, 4, /^apps\[0\]\.release must be a plain value/],
    ['release an alias', `name: prod\nx: &v 1.0.0\napps:\n${entry('*v')}`, 5, /^apps\[0\]\.release must be a plain value/],
    ['alias without anchor', `name: prod\nowner: *team\n`, 2, /^alias \*team has no anchor before it$/],
    ['file aliased inside itself', `&root\nname: prod\nself: *root\n`, 2, /^the whole file is anchored as &root/],
    ['duplicate uuid', `name: prod\napps:\n${entry('1.0.0')}${entry('2.0.0', A.toUpperCase())}`, 5, /^apps\[1\]\.uuid .* duplicates apps\[0\]$/],
  ];
  for (const [what, text, line, reason] of table) {
    const error = caught(() => parseManifest(text, PATH));
    t.match(error, { status: 422, code: 'manifest_invalid', details: { path: PATH, line, reason } }, what);
    t.match(error.message, new RegExp(`^${PATH}:${line}: `), `${what}: message names path and line`);
  }
  const utf8 = caught(() => parseManifest(new Uint8Array([0x6e, 0x3a, 0xff]), PATH));
  t.match(utf8, { status: 422, code: 'manifest_invalid', details: { line: 1, reason: 'is not valid UTF-8' } });
});

t.test('odd but valid layouts settle on one text', async (t) => {
  // yaml moves a comment that precedes a key-less pair on each print; toString settles it.
  const odd = `name: prod\n# c\n: value\napps: []\nworkflows: []\n`;
  const text = parseManifest(odd, PATH).toString();
  t.equal(parseManifest(text, PATH).toString(), text);
  const anchored = parseManifest(`&a # top\nname: prod\n`, PATH).toString();
  t.notMatch(anchored, /&a/, 'an unused anchor on the whole file is dropped');
  t.equal(parseManifest(anchored, PATH).toString(), anchored);
  const tagged = parseManifest(`!!map\nname: prod\napps: !!seq []\n`, PATH).toString();
  t.equal(tagged, 'version: 1.0.0\nname: prod\napps: []\nworkflows: []\n', 'tags on what the module owns are dropped');
});

t.test('the same uuid may be both an app and a workflow', async (t) => {
  const file = parseManifest(`name: prod\napps:\n  - uuid: ${A}\n    release: 1.0.0\nworkflows:\n  - uuid: ${A}\n    release: 2.0.0\n`, PATH);
  t.equal(file.getEntry('PAGE', A)?.release, '1.0.0');
  t.equal(file.getEntry('WORKFLOW', A)?.release, '2.0.0');
});

t.test('mutations validate their input', async (t) => {
  const file = createManifest('prod');
  t.match(
    caught(() => file.setEntry('PAGE', 'x', '1.0.0')),
    invalidField('uuid', /UUID/),
  );
  t.match(
    caught(() => file.setEntry('PAGE', A, '1.0')),
    invalidField('release', /X\.Y\.Z or latest/),
  );
  t.match(
    caught(() => file.setEntry('APP' as never, A, '1.0.0')),
    invalidField('type', /PAGE or WORKFLOW/),
  );
  t.match(
    caught(() => file.removeEntry('PAGE', '../x')),
    invalidField('uuid', /UUID/),
  );
  t.match(
    caught(() => file.getEntry('PAGE', '')),
    invalidField('uuid', /UUID/),
  );
  t.match(
    caught(() => createManifest('Prod')),
    invalidField('name', /a-z/),
  );
  t.equal(file.toString(), createManifest('prod').toString(), 'a refused mutation changes nothing');
});

t.test('replace keeps the comments of surviving entries and reports the changes', async (t) => {
  const file = parseManifest(HAND_WRITTEN, PATH);
  const before = file.clone();
  const changes = file.replace({
    apps: [
      { uuid: C, release: '3.0.0' },
      { uuid: B, release: '1.4.2' },
    ],
    workflows: [{ uuid: W, release: 'latest' }],
  });
  t.same(changes, [
    { type: 'PAGE', uuid: A, before: 'latest', after: null },
    { type: 'PAGE', uuid: C, before: null, after: '3.0.0' },
    { type: 'WORKFLOW', uuid: W, before: '2.0.0', after: 'latest' },
  ]);
  const text = file.toString();
  t.match(text, /release: 1\.4\.2 # pinned: 1\.5 breaks the export/);
  t.match(text, /owner: platform-team # not ours/);
  t.match(text, /^# Production\./);
  t.notMatch(text, /note: kept as-is/, 'the removed entry went with its keys');
  t.equal(before.toString(), parseManifest(HAND_WRITTEN, PATH).toString(), 'the clone did not change');
  t.same(file.replace({}), [
    { type: 'PAGE', uuid: B, before: '1.4.2', after: null },
    { type: 'PAGE', uuid: C, before: '3.0.0', after: null },
    { type: 'WORKFLOW', uuid: W, before: 'latest', after: null },
  ]);
  t.match(file.toString(), /apps: \[\]\nworkflows: \[\]\n/);
});

t.test('parseManifestEntries validates a request body, every field at once', async (t) => {
  t.same(
    parseManifestEntries({
      name: 'ignored',
      apps: [
        { uuid: B, release: 'latest' },
        { uuid: A.toUpperCase(), release: '1.0.0' },
      ],
    }),
    {
      apps: [
        { uuid: A, release: '1.0.0' },
        { uuid: B, release: 'latest' },
      ],
      workflows: [],
    },
  );
  const error = caught(() =>
    parseManifestEntries(
      {
        apps: [{ uuid: 'x', release: '1.0' }, 'nope', { uuid: A, release: '1.0.0' }, { uuid: A, release: '2.0.0' }],
        workflows: 'all',
      },
      'body.manifest',
    ),
  );
  t.match(error, { status: 400, code: 'validation_failed' });
  t.same(
    (error.details.errors as { field: string }[]).map((e) => e.field),
    ['body.manifest.apps[0].uuid', 'body.manifest.apps[0].release', 'body.manifest.apps[1]', 'body.manifest.apps[3].uuid', 'body.manifest.workflows'],
  );
  t.match(
    caught(() => parseManifestEntries([], 'body.manifest')),
    invalidField('body.manifest', /must be an object/),
  );
  t.match(
    caught(() => parseManifestEntries(null)),
    invalidField('manifest', /got null/),
  );
});

t.test('diffManifests', async (t) => {
  t.same(diffManifests({ apps: [], workflows: [] }, { apps: [], workflows: [] }), []);
  t.same(
    diffManifests(
      { apps: [{ uuid: A, release: '1.0.0' }], workflows: [{ uuid: W, release: '1.0.0' }] },
      { apps: [{ uuid: A, release: '1.0.0' }], workflows: [{ uuid: W, release: '1.0.1' }] },
    ),
    [{ type: 'WORKFLOW', uuid: W, before: '1.0.0', after: '1.0.1' }],
  );
});

// --- properties ---------------------------------------------------------------------------------

const release = fc.oneof(
  fc.constant('latest'),
  fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 }), fc.nat({ max: 400 })).map(([a, b, c]) => `${a}.${b}.${c}`),
);
const entries = fc.uniqueArray(fc.record({ uuid: fc.uuid().map((u) => u.toLowerCase()), release }), { selector: (e) => e.uuid, maxLength: 12 });
const manifestName = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/);
const manifest: fc.Arbitrary<Manifest> = fc.record({
  version: fc.constant('1.0.0'),
  name: manifestName,
  apps: entries,
  workflows: entries,
});

const sorted = (list: readonly ManifestEntry[]) => [...list].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));

t.test('property: serialize then parse gives back the manifest, and serialization is a fixed point', async (t) => {
  fc.assert(
    fc.property(manifest, (m) => {
      const file = createManifest(m.name);
      file.replace(m);
      const text = file.toString();
      const path = `manifests/${m.name}.yaml`;
      const again = parseManifest(text, path);
      const expected = { ...m, apps: sorted(m.apps), workflows: sorted(m.workflows) };
      const uuidsInText = [...text.matchAll(/uuid: (\S+)/g)].map((x) => x[1]);
      return (
        JSON.stringify(again.manifest) === JSON.stringify(expected) &&
        again.toString() === text &&
        parseManifest(again.toString(), path).toString() === text &&
        JSON.stringify(uuidsInText) === JSON.stringify([...expected.apps, ...expected.workflows].map((e) => e.uuid))
      );
    }),
    { numRuns: 100 },
  );
  t.pass('round trip, fixed point and sorted entries hold');
});

type Op = { kind: 'set'; type: 'PAGE' | 'WORKFLOW'; uuid: string; release: string } | { kind: 'remove'; type: 'PAGE' | 'WORKFLOW'; uuid: string };
const uuidPool = fc.constantFrom(A, B, C, W, '00000000-0000-0000-0000-000000000000');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), type: fc.constantFrom('PAGE' as const, 'WORKFLOW' as const), uuid: uuidPool, release }),
  fc.record({ kind: fc.constant('remove' as const), type: fc.constantFrom('PAGE' as const, 'WORKFLOW' as const), uuid: uuidPool }),
);

t.test('property: diffManifests lists what a per-uuid comparison of the two lists finds, in any input order', async (t) => {
  // The oracle is the obvious one: a map per side, every uuid of either, sorted.
  const oracle = (before: readonly ManifestEntry[], after: readonly ManifestEntry[]) => {
    const old = new Map(before.map((e) => [e.uuid, e.release]));
    const now = new Map(after.map((e) => [e.uuid, e.release]));
    return [...new Set([...old.keys(), ...now.keys()])]
      .sort()
      .filter((uuid) => old.get(uuid) !== now.get(uuid))
      .map((uuid) => ({ uuid, before: old.get(uuid) ?? null, after: now.get(uuid) ?? null }));
  };
  // Overlapping lists: half of the uuids on both sides, releases that may or may not differ.
  const shared = fc.uniqueArray(
    fc.uuid().map((u) => u.toLowerCase()),
    { maxLength: 16 },
  );
  const side = (uuids: string[]) => fc.shuffledSubarray(uuids).chain((picked) => fc.tuple(...picked.map((uuid) => release.map((r) => ({ uuid, release: r })))));
  fc.assert(
    fc.property(
      shared.chain((uuids) => fc.tuple(side(uuids), side(uuids), side(uuids), side(uuids))),
      ([apps0, apps1, flows0, flows1]) => {
        const changes = diffManifests({ apps: apps0, workflows: flows0 }, { apps: apps1, workflows: flows1 });
        const expected = [...oracle(apps0, apps1).map((c) => ({ type: 'PAGE', ...c })), ...oracle(flows0, flows1).map((c) => ({ type: 'WORKFLOW', ...c }))];
        return JSON.stringify(changes) === JSON.stringify(expected);
      },
    ),
    { numRuns: 300 },
  );
  t.pass('the walk in uuid order agrees with the per-uuid maps');
});

t.test('property: setEntry/removeEntry keep comments and unknown keys, agree with a model, stay canonical', async (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 15 }), (ops) => {
      const file = parseManifest(HAND_WRITTEN, PATH);
      const model = new Map<string, string>([
        [`PAGE ${A}`, 'latest'],
        [`PAGE ${B}`, '1.4.2'],
        [`WORKFLOW ${W}`, '2.0.0'],
      ]);
      const survived = new Set(model.keys());
      for (const o of ops) {
        const key = `${o.type} ${o.uuid}`;
        if (o.kind === 'remove') survived.delete(key);
        const previous = o.kind === 'set' ? file.setEntry(o.type, o.uuid, o.release) : file.removeEntry(o.type, o.uuid);
        if (previous !== (model.get(key) ?? null)) return false;
        if (o.kind === 'set') model.set(key, o.release);
        else model.delete(key);
      }
      const text = file.toString();
      const kept = ['# Production. Ask #releases', '# file-format version, not a release', 'owner: platform-team # not ours', '# end of file'];
      if (!kept.every((k) => text.includes(k))) return false;
      if (survived.has(`PAGE ${B}`) && !text.includes('release: ' + model.get(`PAGE ${B}`) + ' # pinned: 1.5 breaks the export')) return false;
      if (survived.has(`PAGE ${A}`) && !/note: kept as-is/.test(text)) return false;
      const reparsed = parseManifest(text, PATH);
      const expected = (type: string) =>
        sorted([...model].filter(([k]) => k.startsWith(`${type} `)).map(([k, v]) => ({ uuid: k.split(' ')[1] as string, release: v })));
      return (
        reparsed.toString() === text &&
        JSON.stringify(reparsed.manifest.apps) === JSON.stringify(expected('PAGE')) &&
        JSON.stringify(reparsed.manifest.workflows) === JSON.stringify(expected('WORKFLOW'))
      );
    }),
    { numRuns: 100 },
  );
  t.pass('model, comments, unknown keys and fixed point hold');
});

t.test('property: edits spliced into a canonical text give the text printing gives, through clones and past the splice limit', async (t) => {
  const start = (entries: ManifestEntry[], workflows: ManifestEntry[]) =>
    printCanonical({ version: '1.0.0', name: 'prod', apps: sorted(entries), workflows: sorted(workflows) });
  const initial = fc.record({
    apps: fc.uniqueArray(fc.record({ uuid: uuidPool, release }), { selector: (e) => e.uuid, maxLength: 4 }),
    workflows: fc.uniqueArray(fc.record({ uuid: uuidPool, release }), { selector: (e) => e.uuid, maxLength: 4 }),
  });
  let spliced = 0;
  fc.assert(
    fc.property(initial, fc.array(op, { maxLength: 40 }), fc.nat({ max: 40 }), ({ apps, workflows }, ops, cloneAt) => {
      let file = parseManifest(start(apps, workflows), PATH);
      for (const [i, o] of ops.entries()) {
        if (i === cloneAt) file = file.clone();
        if (o.kind === 'set') file.setEntry(o.type, o.uuid, o.release);
        else file.removeEntry(o.type, o.uuid);
        // After every edit, not only the last: each splice starts from the text the one before left.
        const text = file.toString();
        if (text !== printCanonical(file.manifest)) return false;
        if (JSON.stringify(readCanonicalManifest(text, PATH)) !== JSON.stringify(file.manifest)) return false;
      }
      if (ops.length > 0) spliced++;
      return true;
    }),
    { numRuns: 300 },
  );
  t.ok(spliced > 0, `${spliced} runs edited a canonical file`);
});

t.test('property: edited text either parses to a fixed point or is refused with a line in the file', async (t) => {
  const base = parseManifest(HAND_WRITTEN, PATH).toString();
  const edit = fc.record({
    at: fc.nat({ max: base.length }),
    drop: fc.nat({ max: 6 }),
    insert: fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(':', '- ', '\n  ', '#', '[', '{', '"', '&a ', '*a', '\t', '---\n', '\n# c\n', '? ', '!!str ', '|\n', '>-\n'),
    ),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let text = base;
      for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.drop);
      let file;
      try {
        file = parseManifest(text, PATH);
      } catch (error) {
        const ok =
          error instanceof AppError &&
          error.status === 422 &&
          error.code === 'manifest_invalid' &&
          typeof error.details.line === 'number' &&
          error.details.line >= 1 &&
          error.details.line <= text.split('\n').length;
        if (!ok) t.fail(`unexpected error for ${JSON.stringify(text)}: ${String(error)}`);
        return;
      }
      const once = file.toString();
      const twice = parseManifest(once, PATH).toString();
      if (once !== twice) t.fail(`not a fixed point for ${JSON.stringify(text)}`);
    }),
    { numRuns: 400 },
  );
  t.pass('edits handled');
});

t.test('the fast path reads canonical text, and only that, exactly as the Document path does', async (t) => {
  const file = createManifest('prod');
  file.setEntry('PAGE', B, '1.4.2');
  file.setEntry('PAGE', A, 'latest');
  file.setEntry('WORKFLOW', W, '2.0.0');
  const canonical = file.toString();
  // A comment at the end changes no value and sends the text down the Document path.
  const throughDocument = (text: string, path = PATH) => parseManifest(`${text}# the Document path\n`, path).manifest;
  t.same(readCanonicalManifest(canonical, PATH), throughDocument(canonical), 'a file this service wrote');
  t.same(readCanonicalManifest(createManifest('prod').toString(), PATH), throughDocument(createManifest('prod').toString()), 'an empty one');
  t.same(parseManifest(canonical, PATH).getEntry('PAGE', A.toUpperCase()), { uuid: A, release: 'latest' });
  t.equal(parseManifest(canonical, PATH).getEntry('WORKFLOW', A), null);

  const others: Record<string, string> = {
    'hand-written, with comments and unknown keys': HAND_WRITTEN,
    'a trailing space': canonical.replace('apps:\n', 'apps: \n'),
    'no final newline': canonical.slice(0, -1),
    'keys in another order': canonical.replace('version: 1.0.0\nname: prod\n', 'name: prod\nversion: 1.0.0\n'),
    'entries out of order': canonical.replace(/( {2}- uuid: \S+\n {4}release: \S+\n)( {2}- uuid: \S+\n {4}release: \S+\n)/, '$2$1'),
    'an uppercase uuid': canonical.replace(A, A.toUpperCase()),
    'a quoted release': canonical.replace('release: 1.4.2', 'release: "1.4.2"'),
    'another file-format major': canonical.replace('version: 1.0.0', 'version: 2.0.0'),
    'an empty list written by hand': canonical.replace(/workflows:\n[\s\S]*$/, 'workflows:\n'),
    'a release that is not X.Y.Z': canonical.replace('release: 1.4.2', 'release: 1.4'),
  };
  for (const [what, text] of Object.entries(others)) t.equal(readCanonicalManifest(text, PATH), undefined, what);
  t.equal(readCanonicalManifest(canonical, 'manifests/uat.yaml'), undefined, 'a name that is not the file name');

  // Names yaml reads as a number, null or a boolean are taken as written, on both paths.
  for (const name of ['0', '1e3', '0x1f', 'null', 'true', 'yes']) {
    const path = `manifests/${name}.yaml`;
    const text = `version: 1.0.0\nname: ${name}\napps: []\nworkflows: []\n`;
    t.same(readCanonicalManifest(text, path), throughDocument(text, path), `name ${name}`);
  }

  // Edits of canonical text: whatever the fast path accepts, the Document path reads alike.
  const edit = fc.oneof(
    fc.record({
      at: fc.nat({ max: canonical.length }),
      drop: fc.nat({ max: 6 }),
      insert: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(' ', '\n', '- ', ': ', '  ', '"', '#', '[]', '\r')),
    }),
    // One character for another of the kinds values are made of: mostly still canonical.
    fc.record({ at: fc.nat({ max: canonical.length }), drop: fc.constant(1), insert: fc.constantFrom('0', '1', '9', 'a', 'f', 'z', '-', '.', '_') }),
  );
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 2 }), (edits) => {
      let text = canonical;
      for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.drop);
      const fast = readCanonicalManifest(text, PATH);
      if (fast === undefined) return;
      accepted++;
      let slow: Manifest | undefined;
      try {
        slow = throughDocument(text);
      } catch (error) {
        t.fail(`the fast path accepted what the Document path refuses: ${JSON.stringify(text)}: ${String(error)}`);
      }
      if (JSON.stringify(fast) !== JSON.stringify(slow)) t.fail(`the paths disagree on ${JSON.stringify(text)}`);
    }),
    { numRuns: 1000 },
  );
  t.ok(accepted > 0, `some edits stay canonical (${accepted} of 1000)`);
});

t.test('property: one-entry edits of a canonical file splice lines exactly as the Document path rewrites', async (t) => {
  const name = 'prod';
  const path = `manifests/${name}.yaml`;
  const lists = fc.record({ apps: entries, workflows: entries });
  const edit = fc.oneof(
    op,
    lists.map((l) => ({ kind: 'replace' as const, ...l })),
  );
  fc.assert(
    fc.property(lists, fc.array(edit, { maxLength: 8 }), (start, edits) => {
      const canonicalText = printCanonical({ version: '1.0.0', name, apps: sorted(start.apps), workflows: sorted(start.workflows) });
      if (readCanonicalManifest(canonicalText, path) === undefined) return false;
      // A comment line sends the same manifest down the Document path.
      const fast = parseManifest(canonicalText, path);
      const slow = parseManifest(`# a comment\n${canonicalText}`, path);
      for (const e of edits) {
        if (e.kind === 'replace') {
          if (JSON.stringify(fast.replace({ apps: e.apps, workflows: e.workflows })) !== JSON.stringify(slow.replace({ apps: e.apps, workflows: e.workflows })))
            return false;
        } else if (e.kind === 'set') {
          if (fast.setEntry(e.type, e.uuid, e.release) !== slow.setEntry(e.type, e.uuid, e.release)) return false;
        } else if (fast.removeEntry(e.type, e.uuid) !== slow.removeEntry(e.type, e.uuid)) return false;
      }
      const text = fast.toString();
      return `# a comment\n${text}` === slow.toString() && readCanonicalManifest(text, path) !== undefined;
    }),
    { numRuns: 200 },
  );
  t.pass('the canonical edit and the Document rewrite agree, byte for byte');
});
