import fc from 'fast-check';
import t from 'tap';
import {
  bumpVersion,
  compareVersions,
  highestInLine,
  highestVersion,
  isGreaterThanAll,
  lineOf,
  nextPatchInLine,
  sortVersionsDesc,
  versionsInLine,
} from '../../src/formats/version.js';
import { caught, invalidField } from './helpers.js';

const version = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.bigInt({ min: 0n, max: 30n }), fc.nat({ max: 30 })).map(([a, b, c]) => `${a}.${b}.${c}`);

t.test('compareVersions is numeric, component by component', async (t) => {
  const table: [string, string, number][] = [
    ['1.0.0', '1.0.0', 0],
    ['1.0.0', '2.0.0', -1],
    ['2.0.0', '1.99.99', 1],
    ['1.10.0', '1.9.0', 1],
    ['1.0.10', '1.0.9', 1],
    ['0.0.1', '0.1.0', -1],
    ['10.0.0', '9.0.0', 1],
    ['9007199254740993.0.0', '9007199254740992.0.0', 1],
  ];
  for (const [a, b, expected] of table) t.equal(compareVersions(a, b), expected, `${a} vs ${b}`);
  t.match(
    caught(() => compareVersions('1.0', '1.0.0')),
    invalidField('a', /X\.Y\.Z/),
  );
  t.match(
    caught(() => compareVersions('1.0.0', 'v1.0.0')),
    invalidField('b', /X\.Y\.Z/),
  );
});

t.test('sorting and the highest version', async (t) => {
  t.same(sortVersionsDesc(['1.2.0', '1.10.0', '0.9.9', '1.2.10', '1.2.9']), ['1.10.0', '1.2.10', '1.2.9', '1.2.0', '0.9.9']);
  t.same(sortVersionsDesc([]), []);
  const input = ['1.0.0', '2.0.0'];
  sortVersionsDesc(input);
  t.same(input, ['1.0.0', '2.0.0'], 'the input is not reordered');
  t.equal(highestVersion(['0.1.0', '0.10.0', '0.9.0']), '0.10.0');
  t.equal(highestVersion([]), null);
  t.match(
    caught(() => sortVersionsDesc(['1.0.0', 'latest'])),
    invalidField('versions[1]', /X\.Y\.Z/),
  );
});

t.test('isGreaterThanAll', async (t) => {
  t.equal(isGreaterThanAll('1.0.0', []), true);
  t.equal(isGreaterThanAll('1.0.1', ['1.0.0', '0.9.0']), true);
  t.equal(isGreaterThanAll('1.0.0', ['1.0.0']), false, 'equal is not greater');
  t.equal(isGreaterThanAll('1.0.0', ['1.0.1', '0.1.0']), false);
  t.match(
    caught(() => isGreaterThanAll('x', [])),
    invalidField('version', /X\.Y\.Z/),
  );
});

t.test('bumpVersion', async (t) => {
  const table: [string | null, 'major' | 'minor' | 'patch', string][] = [
    [null, 'major', '1.0.0'],
    [null, 'minor', '0.1.0'],
    [null, 'patch', '0.0.1'],
    ['1.4.2', 'major', '2.0.0'],
    ['1.4.2', 'minor', '1.5.0'],
    ['1.4.2', 'patch', '1.4.3'],
    ['1.9.9', 'patch', '1.9.10'],
    ['9007199254740992.0.0', 'major', '9007199254740993.0.0'],
  ];
  for (const [highest, kind, expected] of table) t.equal(bumpVersion(highest, kind), expected, `${highest} + ${kind}`);
  t.match(
    caught(() => bumpVersion('1.0.0', 'huge' as never)),
    invalidField('bump', /major, minor or patch/),
  );
  t.match(
    caught(() => bumpVersion('1.0', 'patch')),
    invalidField('highest', /X\.Y\.Z/),
  );
});

t.test('lines', async (t) => {
  t.equal(lineOf('1.4.2'), '1.4');
  t.equal(lineOf('10.0.3'), '10.0');
  const versions = ['1.4.0', '1.4.2', '1.5.0', '1.4.10', '2.4.1', '11.4.0'];
  t.same(versionsInLine(versions, '1.4'), ['1.4.10', '1.4.2', '1.4.0']);
  t.equal(highestInLine(versions, '1.4'), '1.4.10');
  t.equal(highestInLine(versions, '3.0'), null);
  t.equal(nextPatchInLine(versions, '1.4'), '1.4.11');
  t.equal(nextPatchInLine(versions, '1.5'), '1.5.1');
  t.equal(nextPatchInLine(versions, '3.1'), '3.1.0', 'a line without versions starts at X.Y.0');
  t.match(
    caught(() => nextPatchInLine(versions, '1.4.0')),
    invalidField('line', /X\.Y/),
  );
  t.match(
    caught(() => lineOf('1.4')),
    invalidField('version', /X\.Y\.Z/),
  );
});

t.test('properties', async (t) => {
  fc.assert(fc.property(version, version, (a, b) => Math.sign(compareVersions(a, b)) === -Math.sign(compareVersions(b, a))));
  fc.assert(
    fc.property(fc.array(version), (list) => {
      const sorted = sortVersionsDesc(list);
      return sorted.every((v, i) => i === 0 || compareVersions(sorted[i - 1] as string, v) >= 0) && sorted.length === list.length;
    }),
  );
  fc.assert(
    fc.property(fc.array(version), fc.constantFrom('major', 'minor', 'patch') as fc.Arbitrary<'major' | 'minor' | 'patch'>, (list, kind) => {
      const next = bumpVersion(highestVersion(list), kind);
      return isGreaterThanAll(next, list);
    }),
  );
  fc.assert(
    fc.property(fc.array(version, { minLength: 1 }), (list) => {
      const line = lineOf(list[0] as string);
      const next = nextPatchInLine(list, line);
      return lineOf(next) === line && !list.includes(next) && isGreaterThanAll(next, versionsInLine(list, line));
    }),
  );
  t.pass('properties hold');
});
