// checkArtifact: what publishing and serving an artifact require of its zip, small entries and
// large (streamed) ones alike.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { checkArtifact } from '../../src/formats/artifact-reader.js';
import { buildArtifact } from '../../src/formats/artifact-writer.js';
import { craftZip, deflated, stored } from './zip-craft.js';

const MIB = 1024 * 1024;
const big = new Uint8Array(2 * MIB).map((_, i) => i % 251);

t.test('valid zips pass, whatever the size of their entries', async (t) => {
  const built = await buildArtifact(
    [
      { path: 'main.json', bytes: new TextEncoder().encode('{}') },
      { path: 'lib/big.bin', bytes: big },
    ],
    {
      format: 1,
      element_uuid: '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11',
      element_type: 'PAGE',
      name: 'app',
      release_version: '1.0.0',
      release_description: '',
      created_at: '2026-01-01T00:00:00.000Z',
      created_by: 'Grace',
      source_commit: 'a'.repeat(40),
      source_tree: 'b'.repeat(40),
    },
  );
  await t.resolves(checkArtifact(built));
  await t.resolves(checkArtifact(craftZip([stored('big.bin', big), deflated('big.txt', big), stored('empty', '')])));
  await t.resolves(checkArtifact(craftZip([stored('dir/', ''), stored('dir/a', 'a')])), 'folder entries');
});

t.test('every reason a zip is refused, named', async (t) => {
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['not a zip', randomBytes(100), 'artifact_invalid', /^not a zip file/],
    ['truncated', craftZip([stored('a', 'abc')]).subarray(0, 40), 'artifact_invalid', /^not a zip file/],
    ['.. entry', craftZip([stored('../evil', 'x')]), 'artifact_invalid', /has a \.\. segment/],
    ['absolute entry', craftZip([stored('/etc/passwd', 'x')]), 'artifact_invalid', /is absolute/],
    ['backslash entry', craftZip([stored('a\\..\\b', 'x')]), 'artifact_invalid', /contains a backslash/],
    ['NUL in a name', craftZip([stored('a\0b', 'x')]), 'artifact_invalid', /contains a NUL character/],
    ['declared bomb', craftZip([deflated('bomb', 'x', { uncompressedSize: 0xfffffff0 })]), 'artifact_too_large', /declares 4294967280 bytes/],
    ['declared total', craftZip(Array.from({ length: 5 }, (_, i) => deflated(`f${i}`, 'x', { uncompressedSize: 60 * MIB }))), 'artifact_too_large', /in total/],
    ['huge .release.json', craftZip([deflated('.release.json', '{}', { uncompressedSize: 2 * MIB })]), 'artifact_too_large', /\.release\.json declares/],
    ['small entry, bad CRC', craftZip([deflated('a', 'hello', { crc: 1 })]), 'artifact_invalid', /fails its CRC-32 check/],
    ['large stored entry, bad CRC', craftZip([stored('big', big, { crc: crc32(big) ^ 1 })]), 'artifact_invalid', /fails its CRC-32 check/],
    ['large deflated entry, bad CRC', craftZip([deflated('big', big, { crc: crc32(big) ^ 1 })]), 'artifact_invalid', /fails its CRC-32 check/],
    ['large entry inflating past its size', craftZip([deflated('big', big, { uncompressedSize: 1.5 * MIB })]), 'artifact_too_large', /inflates to more than/],
    [
      'large entry inflating short of its size',
      craftZip([deflated('big', big, { uncompressedSize: 3 * MIB })]),
      'artifact_invalid',
      /holds 2097152 bytes but declares 3145728/,
    ],
    [
      'large entry that does not inflate',
      craftZip([{ name: 'big', data: randomBytes(4096), method: 8, crc: 0, uncompressedSize: 2 * MIB }]),
      'artifact_invalid',
      /does not inflate|holds \d+ bytes but declares/,
    ],
  ];
  for (const [what, zip, code, reason] of cases) {
    await t.rejects(checkArtifact(zip, { path: 'dist/apps/x/1.0.0.zip' }), { code, status: 422, details: { reason, path: 'dist/apps/x/1.0.0.zip' } }, what);
  }
});
