// Zip bombs, in a file of their own so this process's peak memory is measured from a low start.

import { createDeflateRaw } from 'node:zlib';
import t from 'tap';
import { readArtifact, readArtifactMetadata } from '../../src/formats/artifact-reader.js';
import { serializeReleaseMetadata } from '../../src/formats/release-metadata.js';
import { METADATA } from './fixtures/artifact-input.js';
import { caughtAsync } from './helpers.js';
import { craftZip, deflated } from './zip-craft.js';

const MiB = 1024 * 1024;

/** `size` zero bytes, deflated chunk by chunk so the test itself never holds them. */
async function deflatedZeros(size: number): Promise<Uint8Array> {
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const zeros = Buffer.alloc(MiB);
  for (let written = 0; written < size; written += MiB) {
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** Peak resident memory since the process started, in bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

t.test('200 MB of zeros declared as 1 KB: refused within a chunk of the lie, memory stays flat', async (t) => {
  const bomb = await deflatedZeros(200 * MiB);
  t.ok(bomb.length < 400 * 1024, `200 MB of zeros deflate to ${bomb.length} bytes`);
  const zip = craftZip([{ name: 'payload.bin', data: bomb, method: 8, crc: 0, uncompressedSize: 1000 }]);

  const before = process.memoryUsage().rss;
  const started = Date.now();
  const error = await caughtAsync(() => readArtifact(zip));
  t.match(error, {
    status: 422,
    code: 'artifact_too_large',
    details: { limit: 'entry_bytes', max: 1000, entry: 'payload.bin', reason: /more than the 1000 bytes it declares/ },
  });
  const grew = peakRss() - before;
  t.ok(grew < 64 * MiB, `peak memory grew by ${(grew / MiB).toFixed(1)} MiB while refusing the bomb`);
  t.ok(Date.now() - started < 2000, 'refused without inflating it all');
});

t.test('an honest 200 MB declaration is refused before inflating anything', async (t) => {
  const bomb = await deflatedZeros(200 * MiB);
  const zip = craftZip([{ name: 'payload.bin', data: bomb, method: 8, crc: 0, uncompressedSize: 200 * MiB }]);
  t.match(await caughtAsync(() => readArtifact(zip)), {
    code: 'artifact_too_large',
    details: { limit: 'entry_bytes', max: 64 * MiB, reason: /declares 209715200 bytes/ },
  });
});

t.test('a lie just under the limits stops at the declared size', async (t) => {
  const bomb = await deflatedZeros(200 * MiB);
  const declared = 8 * MiB;
  const zip = craftZip([{ name: 'payload.bin', data: bomb, method: 8, crc: 0, uncompressedSize: declared }]);
  const before = process.memoryUsage().rss;
  t.match(await caughtAsync(() => readArtifact(zip, { maxEntryBytes: declared, maxTotalBytes: declared })), {
    code: 'artifact_too_large',
    details: { limit: 'entry_bytes', max: declared },
  });
  const grew = peakRss() - before;
  t.ok(grew < 64 * MiB, `peak memory grew by ${(grew / MiB).toFixed(1)} MiB`);
});

t.test('many small lies add up to the total limit, refused before inflating', async (t) => {
  const one = await deflatedZeros(MiB);
  const entries = Array.from({ length: 300 }, (_, i) => ({ name: `part${i}`, data: one, method: 8, crc: 0, uncompressedSize: MiB }));
  t.match(await caughtAsync(() => readArtifact(craftZip(entries))), {
    code: 'artifact_too_large',
    details: { limit: 'total_bytes', max: 256 * MiB },
  });
});

t.test('the metadata of a zip carrying a bomb is read without touching the bomb', async (t) => {
  const bomb = await deflatedZeros(200 * MiB);
  const zip = craftZip([
    deflated('.release.json', serializeReleaseMetadata(METADATA)),
    { name: 'payload.bin', data: bomb, method: 8, crc: 0, uncompressedSize: 1000 },
  ]);
  t.same(await readArtifactMetadata(zip), METADATA);
});
