import fc from 'fast-check';
import t from 'tap';
import { AppError } from '../../src/errors.js';
import {
  artifactDir,
  artifactPath,
  DEFAULT_BRANCH_PREFIX,
  DIST_DIR,
  distFolderOf,
  hotfixBranch,
  isBranchId,
  isBranchPrefix,
  MANIFESTS_DIR,
  manifestBranch,
  manifestPath,
  parseArtifactPath,
  parseBranchName,
  parseBranchPrefix,
  parseManifestPath,
  PROTECTED_APPS_PATH,
  PROTECTED_WORKFLOWS_PATH,
  protectedListPath,
  publishBranch,
  relativePathProblem,
  relativeToFolder,
  releaseBranch,
  sourceFolder,
  typeOfDistFolder,
} from '../../src/formats/layout.js';
import { caught, invalidField } from './helpers.js';

const UUID = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';

t.test('fixed paths', async (t) => {
  t.equal(PROTECTED_APPS_PATH, '.retool/protected-apps.yaml');
  t.equal(PROTECTED_WORKFLOWS_PATH, '.retool/protected-workflows.yaml');
  t.equal(MANIFESTS_DIR, 'manifests');
  t.equal(DIST_DIR, 'dist');
  t.equal(protectedListPath('PAGE'), PROTECTED_APPS_PATH);
  t.equal(protectedListPath('WORKFLOW'), PROTECTED_WORKFLOWS_PATH);
  t.equal(distFolderOf('PAGE'), 'apps');
  t.equal(distFolderOf('WORKFLOW'), 'workflows');
  t.equal(typeOfDistFolder('apps'), 'PAGE');
  t.equal(typeOfDistFolder('workflows'), 'WORKFLOW');
  t.equal(typeOfDistFolder('Apps'), null);
  t.match(
    caught(() => distFolderOf('APP' as never)),
    invalidField('type', /PAGE or WORKFLOW/),
  );
});

t.test('manifest paths', async (t) => {
  t.equal(manifestPath('prod'), 'manifests/prod.yaml');
  t.match(
    caught(() => manifestPath('../prod')),
    invalidField('name', /a-z/),
  );
  t.match(
    caught(() => manifestPath('')),
    invalidField('name', /a-z/),
  );
  const table: [string, string | null][] = [
    ['manifests/prod.yaml', 'prod'],
    ['manifests/dev-eu_1.yaml', 'dev-eu_1'],
    ['manifests/prod.yml', null],
    ['manifests/Prod.yaml', null],
    ['manifests/a/b.yaml', null],
    ['manifests/.yaml', null],
    ['manifests/../x.yaml', null],
    ['/manifests/prod.yaml', null],
    ['other/prod.yaml', null],
    ['manifests/prod.yaml/x', null],
  ];
  for (const [path, name] of table) t.equal(parseManifestPath(path), name, path);
});

t.test('artifact paths', async (t) => {
  t.equal(artifactDir('PAGE', UUID), `dist/apps/${UUID}`);
  t.equal(artifactDir('WORKFLOW', UUID.toUpperCase()), `dist/workflows/${UUID}`, 'uuid lowercased');
  t.equal(artifactPath('PAGE', UUID, '1.4.2'), `dist/apps/${UUID}/1.4.2.zip`);
  t.match(
    caught(() => artifactPath('PAGE', UUID, '../../x')),
    invalidField('version', /X\.Y\.Z/),
  );
  t.match(
    caught(() => artifactPath('PAGE', '../..', '1.0.0')),
    invalidField('uuid', /UUID/),
  );
  t.match(
    caught(() => artifactPath('PAGE', UUID, 'latest')),
    invalidField('version', /X\.Y\.Z/),
  );

  t.same(parseArtifactPath(`dist/apps/${UUID}/1.4.2.zip`), { type: 'PAGE', uuid: UUID, version: '1.4.2' });
  t.same(parseArtifactPath(`dist/workflows/${UUID}/0.0.1.zip`), { type: 'WORKFLOW', uuid: UUID, version: '0.0.1' });
  const rejected = [
    `dist/apps/${UUID.toUpperCase()}/1.4.2.zip`,
    `dist/apps/${UUID}/v1.4.2.zip`,
    `dist/apps/${UUID}/1.4.2.tar.gz`,
    `dist/apps/${UUID}/1.4.zip`,
    `dist/pages/${UUID}/1.4.2.zip`,
    `dist/apps/${UUID}/x/1.4.2.zip`,
    `/dist/apps/${UUID}/1.4.2.zip`,
    `dist/apps/not-a-uuid/1.4.2.zip`,
    `dist/apps/${UUID}`,
  ];
  for (const path of rejected) t.equal(parseArtifactPath(path), null, path);
});

t.test('relative path problems', async (t) => {
  const table: [string, string | null][] = [
    ['apps/x', null],
    ['a b/c.d', null],
    ['.retool/x', null],
    ['..x/y..', null],
    ['', 'is empty'],
    ['/etc/passwd', 'is absolute'],
    ['a/../b', 'has a .. segment'],
    ['..', 'has a .. segment'],
    ['./a', 'has a . segment'],
    ['a//b', 'has an empty segment'],
    ['a/', 'has an empty segment'],
    ['a\\b', 'contains a backslash'],
    ['a\0b', 'contains a NUL character'],
    ['a\nb', 'contains a control character'],
    ['a\u007fb', 'contains a control character'],
    ['C:/x', 'starts with a drive letter'],
    ['c:x', 'starts with a drive letter'],
    ['.git/config', 'has a .git segment'],
    ['a/.GIT/x', 'has a .git segment'],
    ['a\ud800b', 'is not well-formed Unicode'],
  ];
  for (const [path, problem] of table) t.equal(relativePathProblem(path), problem, JSON.stringify(path));
});

t.test('source folders', async (t) => {
  t.equal(sourceFolder({ type: 'PAGE', name: 'Customer Dashboard' }), 'apps/Customer Dashboard');
  t.equal(sourceFolder({ type: 'WORKFLOW', name: 'nightly' }), 'workflows/nightly');
  t.equal(sourceFolder({ type: 'PAGE', name: 'x', path: 'teams/ops/x/' }), 'teams/ops/x', 'trailing slash removed');
  t.equal(sourceFolder({ type: 'PAGE', name: 'a/b', path: 'apps/a-b' }), 'apps/a-b', 'a path makes any name usable');
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: 'a/b' })),
    invalidField('name', /contains a slash; set path/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: '..' })),
    invalidField('name', /\.\. segment/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: '' })),
    invalidField('name', /is empty/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: 'x', path: '../x' })),
    invalidField('path', /\.\. segment/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: 'x', path: '/' })),
    invalidField('path', /is empty/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: 'x', path: '' })),
    invalidField('path', /is empty/),
  );
  t.match(
    caught(() => sourceFolder({ type: 'PAGE', name: 'x', path: '/abs' })),
    invalidField('path', /absolute/),
  );
  t.equal(relativeToFolder('apps/x/main.rsx', 'apps/x'), 'main.rsx');
  t.equal(relativeToFolder('apps/x/lib/a.js', 'apps/x'), 'lib/a.js');
  t.equal(relativeToFolder('apps/xy/main.rsx', 'apps/x'), null, 'a sibling with a longer name is outside');
  t.equal(relativeToFolder('apps/x', 'apps/x'), null);
});

t.test('branch names', async (t) => {
  t.equal(DEFAULT_BRANCH_PREFIX, 'mir/');
  t.equal(manifestBranch('mir/', 'prod', 'abc123'), 'mir/manifest/prod/abc123');
  t.equal(releaseBranch('mir/', UUID.toUpperCase(), '1.2.3'), `mir/release/${UUID}/1.2.3`);
  t.equal(publishBranch('', 'k3j2h1g0'), 'publish/k3j2h1g0');
  t.equal(publishBranch('team/mir/', 'k3j2h1g0'), 'team/mir/publish/k3j2h1g0');
  t.equal(hotfixBranch(UUID, '1.4'), `hotfix/${UUID}/1.4`);

  const prefixes: [string, boolean][] = [
    ['', true],
    ['mir/', true],
    ['a/b.c/', true],
    ['mir', false],
    ['/mir/', false],
    ['mir//', false],
    ['.mir/', false],
    ['m..r/', false],
    ['mir./', false],
    ['mir.lock/', false],
    ['m r/', false],
    ['mir/x', false],
  ];
  for (const [prefix, ok] of prefixes) t.equal(isBranchPrefix(prefix), ok, JSON.stringify(prefix));
  t.match(
    caught(() => parseBranchPrefix('mir', 'MIR_BRANCH_PREFIX')),
    invalidField('MIR_BRANCH_PREFIX', /followed by \//),
  );
  t.match(
    caught(() => manifestBranch('mir', 'prod', 'abc123')),
    invalidField('branchPrefix', /like mir\//),
  );

  const ids: [string, boolean][] = [
    ['abc123', true],
    ['a'.repeat(16), true],
    ['abc12', false],
    ['a'.repeat(17), false],
    ['ABC123', false],
    ['abc-123', false],
  ];
  for (const [id, ok] of ids) t.equal(isBranchId(id), ok, id);
  t.match(
    caught(() => publishBranch('mir/', '../..')),
    invalidField('id', /a-z and 0-9/),
  );
  t.match(
    caught(() => manifestBranch('mir/', 'Prod', 'abc123')),
    invalidField('name', /a-z/),
  );
  t.match(
    caught(() => hotfixBranch(UUID, '1.4.2')),
    invalidField('line', /X\.Y/),
  );
  t.match(
    caught(() => releaseBranch('mir/', UUID, '1.4')),
    invalidField('version', /X\.Y\.Z/),
  );
});

t.test('branch names parse back', async (t) => {
  t.same(parseBranchName('mir/', 'mir/manifest/prod/abc123'), { kind: 'manifest', name: 'prod', id: 'abc123' });
  t.same(parseBranchName('mir/', `mir/release/${UUID}/1.2.3`), { kind: 'release', uuid: UUID, version: '1.2.3' });
  t.same(parseBranchName('mir/', 'mir/publish/abc123'), { kind: 'publish', id: 'abc123' });
  t.same(parseBranchName('mir/', `hotfix/${UUID}/1.2`), { kind: 'hotfix', uuid: UUID, line: '1.2' });
  t.same(parseBranchName('', 'publish/abc123'), { kind: 'publish', id: 'abc123' });
  for (const branch of [
    'main',
    'mir/publish/abc',
    'other/publish/abc123',
    'mir/manifest/prod',
    'mir/manifest/prod/abc123/x',
    `mir/release/${UUID}/1.2`,
    `hotfix/${UUID}/1.2.3`,
    `hotfix/${UUID.toUpperCase()}/1.2`,
  ]) {
    t.equal(parseBranchName('mir/', branch), null, branch);
  }
  fc.assert(
    fc.property(
      fc.constantFrom('', 'mir/', 'a/b/'),
      fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
      fc.stringMatching(/^[a-z0-9]{6,16}$/),
      fc.uuid().map((u) => u.toLowerCase()),
      fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([a, b, c]) => `${a}.${b}.${c}`),
      (prefix, name, id, uuid, version) => {
        const parsed = [
          parseBranchName(prefix, manifestBranch(prefix, name, id)),
          parseBranchName(prefix, releaseBranch(prefix, uuid, version)),
          parseBranchName(prefix, publishBranch(prefix, id)),
        ];
        return (
          JSON.stringify(parsed) ===
          JSON.stringify([
            { kind: 'manifest', name, id },
            { kind: 'release', uuid, version },
            { kind: 'publish', id },
          ])
        );
      },
    ),
  );
});

// Strings that lean towards the dangerous: separators, dots, NUL, drive letters, case games.
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc
    .array(fc.constantFrom('..', '.', '/', '\\', '\0', 'a', 'B', ':', 'c:', '.git', '.GIT', ' ', '\n', '%2e', 'é'), {
      maxLength: 8,
    })
    .map((parts) => parts.join('')),
);

/** A path no consumer can resolve outside the repository: relative, no `.`, `..` or empty segment. */
function isContained(path: string): boolean {
  return (
    !path.startsWith('/') &&
    !path.includes('\\') &&
    !path.includes('\0') &&
    path.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && s.toLowerCase() !== '.git')
  );
}

/** `fn(...)` either throws an AppError or returns a contained path under `folder`. */
function safeOrThrows(fn: () => string, folder: string): boolean {
  let path: string;
  try {
    path = fn();
  } catch (error) {
    return error instanceof AppError && error.status === 400;
  }
  return isContained(path) && path.startsWith(folder);
}

t.test('no user string escapes through a layout function', async (t) => {
  fc.assert(
    fc.property(nasty, nasty, nasty, fc.constantFrom('PAGE', 'WORKFLOW') as fc.Arbitrary<'PAGE' | 'WORKFLOW'>, (a, b, c, type) => {
      const dist = type === 'PAGE' ? 'dist/apps/' : 'dist/workflows/';
      const source = type === 'PAGE' ? 'apps/' : 'workflows/';
      return (
        safeOrThrows(() => manifestPath(a), 'manifests/') &&
        safeOrThrows(() => artifactDir(type, a), dist) &&
        safeOrThrows(() => artifactPath(type, a, b), dist) &&
        safeOrThrows(() => sourceFolder({ type, name: a }), source) &&
        safeOrThrows(() => sourceFolder({ type, name: a, path: b }), '') &&
        safeOrThrows(() => manifestBranch(a, b, c), '') &&
        safeOrThrows(() => releaseBranch('mir/', a, b), 'mir/release/') &&
        safeOrThrows(() => hotfixBranch(a, b), 'hotfix/')
      );
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 runs of hostile strings');
});

t.test('every artifact path round-trips', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('PAGE', 'WORKFLOW') as fc.Arbitrary<'PAGE' | 'WORKFLOW'>,
      fc.uuid(),
      fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([a, b, c]) => `${a}.${b}.${c}`),
      (type, uuid, version) => {
        const path = artifactPath(type, uuid, version);
        const back = parseArtifactPath(path);
        return (
          back !== null &&
          back.type === type &&
          back.uuid === uuid.toLowerCase() &&
          back.version === version &&
          artifactPath(back.type, back.uuid, back.version) === path
        );
      },
    ),
  );
  fc.assert(
    fc.property(nasty, (path) => {
      const back = parseArtifactPath(path);
      return back === null || artifactPath(back.type, back.uuid, back.version) === path;
    }),
  );
  fc.assert(fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/), (name) => parseManifestPath(manifestPath(name)) === name));
  t.pass('round trips hold');
});
