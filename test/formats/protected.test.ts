import fc from 'fast-check';
import t from 'tap';
import { AppError } from '../../src/errors.js';
import { findElement, parseProtectedApps, parseProtectedListSliced, parseProtectedWorkflows, readPlainList } from '../../src/formats/protected.js';
import { caught } from './helpers.js';

const A = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';
const B = '5b0e2a4f-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const APPS = '.retool/protected-apps.yaml';
const WORKFLOWS = '.retool/protected-workflows.yaml';

t.test('parses both lists with default and custom source folders', async (t) => {
  const apps = parseProtectedApps(
    `# written by Retool
apps:
  - uuid: ${A.toUpperCase()}
    name: Customer Dashboard
    retool_extra: ignored
  - uuid: ${B}
    name: ops
    path: teams/ops/app/
workflows:
  - this list is not read from the apps file
`,
    APPS,
  );
  t.same(apps, [
    { uuid: A, name: 'Customer Dashboard', type: 'PAGE', sourceFolder: 'apps/Customer Dashboard' },
    { uuid: B, name: 'ops', type: 'PAGE', path: 'teams/ops/app/', sourceFolder: 'teams/ops/app' },
  ]);
  const workflows = parseProtectedWorkflows(new TextEncoder().encode(`workflows:\n  - uuid: ${A}\n    name: nightly\n    path:\n`));
  t.same(workflows, [{ uuid: A, name: 'nightly', type: 'WORKFLOW', sourceFolder: 'workflows/nightly' }], 'an empty path is no path');
});

t.test('an empty file, or one without the list, protects nothing', async (t) => {
  for (const text of ['', '# nothing yet\n', 'apps:\n', 'apps: []\n', 'other: 1\n']) {
    t.same(parseProtectedApps(text, APPS), [], JSON.stringify(text));
  }
  t.same(parseProtectedWorkflows('apps:\n  - x\n', WORKFLOWS), [], 'the workflows file ignores apps');
});

t.test('every reason a protected list is refused, with its line', async (t) => {
  const table: [string, string, number, RegExp][] = [
    ['bad YAML', 'apps: [\n', 2, /^invalid YAML: /],
    ['duplicate key', 'apps: []\napps: []\n', 2, /^invalid YAML: Map keys must be unique/],
    ['not a mapping', '- a\n', 1, /^must be a mapping with a list under apps$/],
    ['list not a list', 'apps: all\n', 1, /^apps must be a list of \{uuid, name, path\?\}$/],
    ['entry not a mapping', 'apps:\n  - x\n', 2, /^apps\[0\] must be a mapping with uuid and name$/],
    ['missing uuid', 'apps:\n  - name: x\n', 2, /^apps\[0\] is missing uuid$/],
    ['bad uuid', 'apps:\n  - uuid: 12\n    name: x\n', 2, /^apps\[0\]\.uuid must be a UUID, got 12$/],
    ['missing name', `apps:\n  - uuid: ${A}\n`, 2, /^apps\[0\] is missing name$/],
    ['empty name', `apps:\n  - uuid: ${A}\n    name: "  "\n`, 3, /^apps\[0\]\.name must be a non-empty string, got " {2}"$/],
    ['name a list', `apps:\n  - uuid: ${A}\n    name: [a]\n`, 3, /^apps\[0\]\.name must be a non-empty string, got a collection$/],
    ['name a folder path', `apps:\n  - uuid: ${A}\n    name: a/b\n`, 3, /^apps\[0\]: name "a\/b" cannot be a folder name: it contains a slash; set path$/],
    ['name ..', `apps:\n  - uuid: ${A}\n    name: ..\n`, 3, /^apps\[0\]: name "\.\." cannot be a folder name: it has a \.\. segment; set path$/],
    ['path escapes', `apps:\n  - uuid: ${A}\n    name: x\n    path: ../../etc\n`, 4, /^apps\[0\]: path "\.\.\/\.\.\/etc" has a \.\. segment$/],
    ['path absolute', `apps:\n  - uuid: ${A}\n    name: x\n    path: /srv/x\n`, 4, /^apps\[0\]: path "\/srv\/x" is absolute$/],
    ['path a number', `apps:\n  - uuid: ${A}\n    name: x\n    path: 12\n`, 4, /^apps\[0\]\.path must be a string, got 12$/],
    [
      'path under .retool',
      `apps:\n  - uuid: ${A}\n    name: x\n    path: .retool/x\n`,
      4,
      /^apps\[0\]: path "\.retool\/x" is inside \.retool, which holds the protected lists, not source$/,
    ],
    ['path .retool itself', `apps:\n  - uuid: ${A}\n    name: x\n    path: .retool/\n`, 4, /^apps\[0\]: path "\.retool\/" is inside \.retool/],
    ['path .Retool in another case', `apps:\n  - uuid: ${A}\n    name: x\n    path: .Retool/x\n`, 4, /^apps\[0\]: path "\.Retool\/x" is inside \.retool/],
    [
      'duplicate uuid',
      `apps:\n  - uuid: ${A}\n    name: x\n  - uuid: ${A.toUpperCase()}\n    name: y\n`,
      4,
      /^apps\[1\]\.uuid .* duplicates the element at line 2$/,
    ],
    [
      'shared folder',
      `apps:\n  - uuid: ${A}\n    name: x\n  - uuid: ${B}\n    name: y\n    path: apps/x/\n`,
      4,
      /^apps\[1\]: source folder apps\/x is also the folder of the element at line 2$/,
    ],
  ];
  for (const [what, text, line, reason] of table) {
    const error = caught(() => parseProtectedApps(text, APPS));
    t.match(error, { status: 422, code: 'repository_file_invalid', details: { path: APPS, line, reason } }, what);
  }
  t.match(
    caught(() => parseProtectedWorkflows('workflows: 1\n')),
    {
      details: { path: WORKFLOWS, line: 1, reason: /^workflows must be a list/ },
    },
  );
  t.match(
    caught(() => parseProtectedApps(new Uint8Array([0xc3]), APPS)),
    { details: { line: 1, reason: 'is not valid UTF-8' } },
  );
});

t.test('findElement', async (t) => {
  const elements = [...parseProtectedApps(`apps:\n  - uuid: ${A}\n    name: a\n`), ...parseProtectedWorkflows(`workflows:\n  - uuid: ${B}\n    name: b\n`)];
  t.equal(findElement(elements, 'PAGE', A)?.name, 'a');
  t.equal(findElement(elements, 'PAGE', A.toUpperCase())?.name, 'a');
  t.equal(findElement(elements, 'WORKFLOW', B)?.sourceFolder, 'workflows/b');
  t.equal(findElement(elements, 'WORKFLOW', A), null, 'the type must match too');
  t.equal(findElement([], 'PAGE', A), null);
});

t.test('property: any text gives elements with contained folders, or a 422 with a line in the file', async (t) => {
  const piece = fc.constantFrom(
    'apps:\n',
    `  - uuid: ${A}\n`,
    `  - uuid: ${B}\n`,
    '    name: x\n',
    '    name: ../y\n',
    '    name: a b\n',
    '    path: p/q/\n',
    '    path: ../q\n',
    '    path: C:/q\n',
    '  - \n',
    '#\n',
    '[',
    ':',
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 12 }), (pieces) => {
      const text = pieces.join('');
      try {
        const elements = parseProtectedApps(text, APPS);
        return elements.every(
          (e) =>
            !e.sourceFolder.startsWith('/') && e.sourceFolder.split('/').every((s) => s !== '' && s !== '.' && s !== '..') && !e.sourceFolder.includes('\\'),
        );
      } catch (error) {
        return (
          error instanceof AppError &&
          error.code === 'repository_file_invalid' &&
          typeof error.details.line === 'number' &&
          error.details.line >= 1 &&
          error.details.line <= text.split('\n').length
        );
      }
    }),
    { numRuns: 500 },
  );
  t.pass('no escape, no stray error');
});

t.test('the fast path reads the plain layout, and only that, exactly as the Document path does', async (t) => {
  const plain = `apps:\n  - uuid: ${A}\n    name: app-one\n  - uuid: ${B}\n    name: My App\n    path: apps/custom/\n`;
  // A comment at the end changes nothing and sends the text down the Document path.
  const throughDocument = (text: string) => parseProtectedApps(`${text}# the Document path\n`, APPS);
  t.same(readPlainList(plain, 'PAGE'), throughDocument(plain), 'the plain layout');
  t.same(readPlainList('apps: []\n', 'PAGE'), [], 'an empty list');
  for (const [what, text] of Object.entries({
    'a comment': `${plain}# more\n`,
    'another key': `${plain}owner: team\n`,
    'the other list': plain.replace('apps:', 'workflows:'),
    'an uppercase uuid': plain.replace(A, A.toUpperCase()),
    'a name yaml reads as a boolean': plain.replace('name: app-one', 'name: True'),
    'a name yaml reads as a number': plain.replace('name: app-one', 'name: 12'),
    'a quoted name': plain.replace('name: app-one', 'name: "app-one"'),
    'a duplicate uuid': plain.replace(B, A),
    'two elements in one folder': plain.replace('path: apps/custom/', 'path: apps/app-one'),
  })) {
    t.equal(readPlainList(text, 'PAGE'), undefined, what);
  }

  // Lists in the plain layout from a few uuids, names and paths, sometimes with a stray edit.
  const entry = fc.record({
    uuid: fc.constantFrom(A, B, 'c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8', A.toUpperCase()),
    name: fc.constantFrom('x', 'null', 'My App', 'a.b_c-d', '_', 'app-00001', 'Yes', '..', 'x '),
    path: fc.option(fc.constantFrom('p/q/', '../q', 'false', 'apps/x', '_/y'), { nil: undefined }),
  });
  const text = fc
    .tuple(fc.array(entry, { maxLength: 5 }), fc.option(fc.tuple(fc.nat(), fc.constantFrom(' ', '\n', '#', ':', '-', 'a')), { nil: undefined }))
    .map(([entries, stray]) => {
      const plain = `apps:\n${entries.map((e) => `  - uuid: ${e.uuid}\n    name: ${e.name}\n${e.path === undefined ? '' : `    path: ${e.path}\n`}`).join('')}`;
      if (!stray) return plain;
      const at = stray[0] % (plain.length + 1);
      return plain.slice(0, at) + stray[1] + plain.slice(at);
    });
  let accepted = 0;
  fc.assert(
    fc.property(text, (text) => {
      const fast = readPlainList(text, 'PAGE');
      if (fast === undefined) return;
      accepted++;
      let slow;
      try {
        slow = throughDocument(text);
      } catch (error) {
        t.fail(`the fast path accepted what the Document path refuses: ${JSON.stringify(text)}: ${String(error)}`);
      }
      if (JSON.stringify(fast) !== JSON.stringify(slow)) t.fail(`the paths disagree on ${JSON.stringify(text)}`);
    }),
    { numRuns: 2000 },
  );
  t.ok(accepted > 0, `some texts are in the plain layout (${accepted} of 2000)`);
});

t.test('in slices, a list gives what it gives in one piece, and timers run meanwhile', async (t) => {
  const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const entries = Array.from({ length: 50_000 }, (_, i) => `  - uuid: ${uuid(i)}\n    name: app-${i}\n`);
  const plain = `apps:\n${entries.join('')}`;
  let turns = 0;
  const counting = setInterval(() => turns++, 1);
  const sliced = await parseProtectedListSliced(plain, APPS, 'PAGE');
  clearInterval(counting);
  t.same(sliced, parseProtectedApps(plain, APPS), 'the plain layout, 50,000 elements');
  // In one piece (as parseProtectedApps reads it) no timer could run until the end.
  t.ok(turns > 0, `a timer ran ${turns} times while the list was read`);
  const short = `apps:\n${entries.slice(0, 3).join('')}# a comment: the Document path\n`;
  t.same(await parseProtectedListSliced(short, APPS, 'PAGE'), parseProtectedApps(short, APPS), 'another layout');
  const bad = plain.replace(uuid(5000), uuid(7));
  const refused = await parseProtectedListSliced(bad, APPS, 'PAGE').then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(refused instanceof AppError, 'a duplicate past the first steps is refused');
  const inOnePiece = caught(() => parseProtectedApps(bad, APPS));
  const { code, message, details } = refused as AppError;
  t.same({ code, message, details }, { code: inOnePiece.code, message: inOnePiece.message, details: inOnePiece.details }, 'with the same 422');
});
