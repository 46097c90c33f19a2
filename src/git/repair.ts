// What a killed process can leave in a bare repository, removed before the gateway uses it:
// - `<ref>.lock` files (git's lock protocol, which our ref updates follow too): left behind, one
//   blocks every later update of that ref — "refs/heads/main is locked by another writer" forever;
// - half-received packs (`objects/incoming-*`) and a `.pack` whose `.idx` never arrived;
// - files written aside but never renamed into place (src/git/atomic-fs.ts).
// Only the owner of the data dir calls this (src/runtime/data-dir-lock.ts), so in the mirror
// nothing else can hold a lock. The embedded repository is also pushed to by native git, whose
// locks live for milliseconds: there only locks older than `minLockAgeMs` count as stale.
import fs from 'node:fs';
import path from 'node:path';
import { TEMP_MARK } from './atomic-fs.js';

export interface RepairReport {
  /** Paths removed, relative to the git dir. */
  readonly removed: readonly string[];
}

async function walk(dir: string, visit: (file: string, entry: fs.Dirent) => Promise<void>): Promise<void> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(file, visit);
    await visit(file, entry);
  }
}

export async function repairRepository(gitdir: string, options: { minLockAgeMs: number; now?: number }): Promise<RepairReport> {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  const remove = async (file: string) => {
    await fs.promises.rm(file, { recursive: true, force: true });
    removed.push(path.relative(gitdir, file));
  };
  const stale = async (file: string) => {
    if (options.minLockAgeMs <= 0) return true;
    const stat = await fs.promises.stat(file).catch(() => null);
    return stat !== null && now - stat.mtimeMs >= options.minLockAgeMs;
  };

  // Ref locks, anywhere under refs/, and the repository-wide ones.
  await walk(path.join(gitdir, 'refs'), async (file, entry) => {
    if (entry.isFile() && (file.endsWith('.lock') || file.includes(TEMP_MARK)) && (await stale(file))) await remove(file);
  });
  for (const name of ['packed-refs.lock', 'HEAD.lock', 'config.lock', 'shallow.lock']) {
    const file = path.join(gitdir, name);
    if (fs.existsSync(file) && (await stale(file))) await remove(file);
  }
  for (const name of await fs.promises.readdir(gitdir).catch(() => [] as string[])) {
    if (name.includes(TEMP_MARK)) await remove(path.join(gitdir, name));
  }

  const objects = path.join(gitdir, 'objects');
  for (const entry of await fs.promises.readdir(objects, { withFileTypes: true }).catch(() => [] as fs.Dirent[])) {
    const dir = path.join(objects, entry.name);
    if (!entry.isDirectory()) continue;
    if (entry.name.startsWith('incoming-')) {
      if (await stale(dir)) await remove(dir);
    } else if (/^[0-9a-f]{2}$/.test(entry.name)) {
      for (const name of await fs.promises.readdir(dir))
        if (name.includes(TEMP_MARK) && (await stale(path.join(dir, name)))) await remove(path.join(dir, name));
    }
  }

  // A pack is usable only with its index (the index goes in last, src/git/pack-receiver.ts).
  const packDir = path.join(objects, 'pack');
  const packNames = await fs.promises.readdir(packDir).catch(() => [] as string[]);
  const indexed = new Set(packNames.filter((n) => n.endsWith('.idx')).map((n) => n.slice(0, -4)));
  for (const name of packNames) {
    if (name.endsWith('.pack') && !indexed.has(name.slice(0, -5)) && (await stale(path.join(packDir, name)))) await remove(path.join(packDir, name));
  }
  return { removed };
}
