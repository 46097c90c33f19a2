import t from 'tap';
import { caught, invalidField } from './helpers.js';
import {
  ELEMENT_TYPES,
  isCanonicalUuid,
  isElementType,
  isLine,
  isManifestName,
  isReleaseRef,
  isUuid,
  isVersion,
  parseElementType,
  parseLine,
  parseManifestName,
  parseReleaseRef,
  parseUuid,
  parseVersion,
} from '../../src/formats/values.js';

const UUID = '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11';

t.test('uuids: any case accepted, stored lowercase', async (t) => {
  const table: [unknown, boolean][] = [
    [UUID, true],
    [UUID.toUpperCase(), true],
    ['00000000-0000-0000-0000-000000000000', true],
    ['0d7c1c9e4a8e4d0c9a572f2f6f1d8a11', false],
    ['{0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11}', false],
    ['0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a1', false],
    ['0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a111', false],
    ['gd7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11', false],
    [`${UUID}\n`, false],
    [` ${UUID}`, false],
    ['', false],
    [42, false],
    [null, false],
  ];
  for (const [value, ok] of table) t.equal(isUuid(value), ok, `isUuid(${JSON.stringify(value)})`);
  t.equal(parseUuid(UUID.toUpperCase(), 'f'), UUID);
  t.equal(isCanonicalUuid(UUID), true);
  t.equal(isCanonicalUuid(UUID.toUpperCase()), false);
  t.match(
    caught(() => parseUuid('nope', 'path.elementUuid')),
    invalidField('path.elementUuid', /must be a UUID.*"nope"/),
  );
  t.match(
    caught(() => parseUuid(7, 'body.uuid')),
    invalidField('body.uuid', /must be a string, got number 7/),
  );
});

t.test('manifest names', async (t) => {
  const table: [string, boolean][] = [
    ['prod', true],
    ['0', true],
    ['dev-eu_2', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['-prod', false],
    ['_prod', false],
    ['Prod', false],
    ['prod.yaml', false],
    ['a/b', false],
    ['..', false],
    ['prod ', false],
    ['prod\n', false],
  ];
  for (const [value, ok] of table) t.equal(isManifestName(value), ok, `isManifestName(${JSON.stringify(value)})`);
  t.equal(parseManifestName('uat', 'name'), 'uat');
  t.match(
    caught(() => parseManifestName('../x', 'path.manifestName')),
    invalidField('path.manifestName', /a-z, 0-9, _ and -/),
  );
  t.match(
    caught(() => parseManifestName(undefined, 'name')),
    invalidField('name', /must be a string, got undefined/),
  );
});

t.test('versions and lines are strict', async (t) => {
  const versions: [string, boolean][] = [
    ['0.0.0', true],
    ['1.2.3', true],
    ['10.20.30', true],
    ['99999999999999999999.0.1', true],
    ['01.2.3', false],
    ['1.02.3', false],
    ['1.2.03', false],
    ['v1.2.3', false],
    ['1.2', false],
    ['1.2.3.4', false],
    ['1.2.3-beta', false],
    ['1.2.3+build', false],
    [' 1.2.3', false],
    ['1.2.3\n', false],
    ['latest', false],
    ['', false],
  ];
  for (const [value, ok] of versions) t.equal(isVersion(value), ok, `isVersion(${JSON.stringify(value)})`);
  const lines: [string, boolean][] = [
    ['1.2', true],
    ['0.0', true],
    ['1', false],
    ['1.2.3', false],
    ['01.2', false],
    ['1.x', false],
  ];
  for (const [value, ok] of lines) t.equal(isLine(value), ok, `isLine(${JSON.stringify(value)})`);
  t.equal(parseVersion('1.4.2', 'v'), '1.4.2');
  t.equal(parseLine('1.4', 'l'), '1.4');
  t.match(
    caught(() => parseVersion('v1.0.0', 'body.release_version')),
    invalidField('body.release_version', /X\.Y\.Z.*"v1\.0\.0"/),
  );
  t.match(
    caught(() => parseLine('1.4.2', 'line')),
    invalidField('line', /X\.Y/),
  );
});

t.test('element types and release references', async (t) => {
  t.same(ELEMENT_TYPES, ['PAGE', 'WORKFLOW']);
  t.equal(isElementType('PAGE'), true);
  t.equal(isElementType('page'), false);
  t.equal(isElementType('APP'), false);
  t.equal(parseElementType('WORKFLOW', 'query.elementType'), 'WORKFLOW');
  t.match(
    caught(() => parseElementType('workflow', 'query.elementType')),
    invalidField('query.elementType', /PAGE or WORKFLOW/),
  );

  const refs: [unknown, boolean][] = [
    ['latest', true],
    ['1.0.0', true],
    ['Latest', false],
    ['LATEST', false],
    ['1.0', false],
    [1, false],
  ];
  for (const [value, ok] of refs) t.equal(isReleaseRef(value), ok, `isReleaseRef(${JSON.stringify(value)})`);
  t.equal(parseReleaseRef('latest', 'r'), 'latest');
  t.match(
    caught(() => parseReleaseRef('1.0', 'body.release')),
    invalidField('body.release', /X\.Y\.Z or latest/),
  );
});

t.test('error messages cut long input short', async (t) => {
  const error = caught(() => parseVersion('9'.repeat(10_000), 'v'));
  t.ok(error.message.length < 300, 'a huge value does not end up whole in the message');
});
