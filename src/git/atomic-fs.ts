// Files written aside and renamed into place: our loose objects (loose-objects.ts), and everything
// isomorphic-git writes (refs, `packed-refs`, config), which it writes in place (`fs.writeFile`)
// otherwise — a process killed mid-write would leave a truncated file, and a truncated object is
// never rewritten, since a writer skips objects whose file exists. A rename is atomic on POSIX file
// systems: a reader, or the next start, sees the old file or the new one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

/** Left by a write that was killed between writing and renaming; removed at start (src/git/repair.ts). */
export const TEMP_MARK = '.mir-tmp-';

/** Writes `file` aside and renames it into place: readers see the old content or the new, never part of it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options?: fs.WriteFileOptions): Promise<void> {
  const temp = `${file}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
  try {
    await fs.promises.writeFile(temp, data, options);
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.unlink(temp).catch(() => undefined);
    // ENOENT when the folder is missing: isomorphic-git creates it and writes again.
    throw error;
  }
}

/** True when `file` exists (any kind of entry). */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

/** `fs` for isomorphic-git (its `promises` member is what it binds to: https://isomorphic-git.org/docs/en/fs). */
export const atomicFs = { promises: { ...fs.promises, writeFile: writeFileAtomic } };
