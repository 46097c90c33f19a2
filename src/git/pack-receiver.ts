// Packs arriving in the local repository (a fetch's): indexed and written aside while they arrive,
// then put in place whole; and the object cache kept in step with the pack folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PackStreamIndexer } from './pack-index.js';
import type { GatewayContext } from './gateway-context.js';

type PackContext = Pick<GatewayContext, 'gitdir' | 'store' | 'knownPacks' | 'counters'>;

export interface ReceivingPack {
  push(chunk: Uint8Array): void;
  store(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * isomorphic-git caches parsed pack indexes by file name, so packs added by a fetch are found
 * without a new cache. A pack that disappeared (native `git gc` on the embedded repository) leaves
 * a stale entry: then start a new cache and let the old one be collected.
 */
export async function refreshCacheIfPacksVanished(ctx: PackContext): Promise<void> {
  const dir = path.join(ctx.gitdir, 'objects', 'pack');
  const names = new Set((await fs.promises.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx')));
  if ([...ctx.knownPacks].some((n) => !names.has(n))) ctx.store.resetCache();
  ctx.knownPacks = names;
}

/**
 * A pack being received: indexed by our own indexer (src/git/pack-index.ts: isomorphic-git's
 * indexPack is what makes its clone slow) and written aside as it arrives, both overlapping the
 * transfer as native git's index-pack does. `store` then puts it in place: readers list only
 * .idx files, so the .pack goes in first and the .idx last, each renamed into place: a reader
 * never sees half of one.
 */
export async function receivePack(ctx: PackContext): Promise<ReceivingPack> {
  const { gitdir } = ctx;
  const indexer = new PackStreamIndexer({ keep: (type) => type === 'tree' || type === 'commit' });
  const scratch = path.join(gitdir, 'objects', `incoming-${randomBytes(6).toString('hex')}`);
  await fs.promises.mkdir(scratch, { recursive: true });
  const incoming = path.join(scratch, 'incoming.pack');
  const file = await fs.promises.open(incoming, 'w');
  // Pieces wait here while a write is under way, then go out together in one writev.
  let queued: Uint8Array[] = [];
  let writing: Promise<void> | undefined;
  let failed: unknown;
  let closed = false;
  const flush = async (): Promise<void> => {
    while (queued.length > 0 && !failed) {
      const batch = queued;
      queued = [];
      // writev takes at most IOV_MAX (1024) buffers per call on Linux.
      for (let i = 0; i < batch.length; i += 1024) await file.writev(batch.slice(i, i + 1024)).catch((error: unknown) => (failed ??= error));
    }
    writing = undefined;
  };
  const close = async () => {
    await writing;
    if (!closed) await file.close();
    closed = true;
  };
  return {
    push(chunk) {
      indexer.push(chunk);
      queued.push(chunk);
      writing ??= flush();
    },
    async store() {
      await close();
      if (failed) throw failed;
      const { idx, checksum, objects, pack } = indexer.finish();
      if (objects.length === 0) return;
      const name = `pack-${checksum}`;
      const packDir = path.join(gitdir, 'objects', 'pack');
      await fs.promises.mkdir(packDir, { recursive: true });
      await fs.promises.writeFile(path.join(scratch, `${name}.idx`), idx);
      await fs.promises.rename(incoming, path.join(packDir, `${name}.pack`));
      await fs.promises.rename(path.join(scratch, `${name}.idx`), path.join(packDir, `${name}.idx`));
      ctx.knownPacks.add(`${name}.idx`);
      ctx.store.prime(objects);
      // The bytes are in memory already, in the pieces received: read from them, never joined.
      ctx.store.addPack(`${name}.idx`, idx, pack);
      ctx.counters.packsReceived++;
    },
    async discard() {
      await close().catch(() => undefined);
      await fs.promises.rm(scratch, { recursive: true, force: true });
    },
  };
}
