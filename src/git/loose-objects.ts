// Writing loose objects: `<type> <size>\0<content>`, its sha1 the id, deflated into
// objects/<2 hex>/<38 hex>, as git writes them. Done here rather than through isomorphic-git,
// whose writeObject deflates every object through a web CompressionStream and hashes it with
// WebCrypto, a few promise hops and stream objects per object: the commit of 5,000 elements that
// test/ui/matrix-scale-browser.test.ts makes (~20,000 small objects) took that test from 26 to 68
// CPU-s.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { pathExists, writeFileAtomic } from './atomic-fs.js';

const deflate = promisify(zlib.deflate);

/** Content up to this size is deflated on the event loop (well under a millisecond); larger on libuv's thread pool. */
const SYNC_DEFLATE_BYTES = 64 * 1024;

/**
 * Stores an object and returns its id. An object already stored is not written again (its id
 * is its content), which is what git does too.
 */
export async function writeLooseObject(gitdir: string, type: 'blob' | 'tree' | 'commit', content: Uint8Array): Promise<string> {
  const framed = Buffer.concat([Buffer.from(`${type} ${content.length}\0`, 'latin1'), content]);
  const oid = createHash('sha1').update(framed).digest('hex');
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  if (await pathExists(file)) return oid;
  const deflated = framed.length <= SYNC_DEFLATE_BYTES ? zlib.deflateSync(framed) : await deflate(framed);
  try {
    await writeFileAtomic(file, deflated);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // The first object under this two-hex folder.
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, deflated);
  }
  return oid;
}
