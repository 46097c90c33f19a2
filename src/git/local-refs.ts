// The local repository's refs: which branch names git allows, reading refs, and moving one by
// compare-and-swap under git's own lock-file protocol.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { errors } from '../errors.js';
import { isNotFound } from './object-store.js';
import { internal, type GatewayContext } from './gateway-context.js';

type RefContext = Pick<GatewayContext, 'store' | 'gitdir'>;

/** git check-ref-format rules for a branch name (https://git-scm.com/docs/git-check-ref-format). */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name === '@' || name.includes('..') || name.includes('//') || name.includes('@{')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((s) => s.length > 0 && !s.startsWith('.') && !s.endsWith('.lock'));
}

export function isSha(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value);
}

export async function readLocalRef(ctx: RefContext, ref: string): Promise<string | null> {
  try {
    // https://isomorphic-git.org/docs/en/resolveRef — reads loose refs and packed-refs.
    return await git.resolveRef({ fs: ctx.store.fs, gitdir: ctx.gitdir, ref });
  } catch (error) {
    if (isNotFound(error)) return null;
    return internal('resolveRef', error);
  }
}

export async function localHeads(ctx: RefContext): Promise<Map<string, string>> {
  // https://isomorphic-git.org/docs/en/listBranches
  const names = await git.listBranches({ fs: ctx.store.fs, gitdir: ctx.gitdir });
  const heads = new Map<string, string>();
  await Promise.all(
    names.map(async (name) => {
      const oid = await readLocalRef(ctx, `refs/heads/${name}`);
      if (oid) heads.set(name, oid);
    }),
  );
  return heads;
}

/** A branch name (`main`, `refs/heads/…`) or a full sha to a commit sha; null if absent. */
export async function resolveRef(ctx: RefContext, ref: string): Promise<string | null> {
  if (isSha(ref)) return (await ctx.store.has(ref)) ? ref : null;
  const full = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
  if (!isValidBranchName(full)) return null;
  return readLocalRef(ctx, full);
}

/**
 * Compare-and-swap of a ref in the local repository, under git's own `<ref>.lock` protocol so
 * that native git writing to the same repository (people pushing to the embedded one) and we
 * never interleave. `expected`: undefined = no check, null = must not exist. `next` null deletes.
 */
export async function casRef(
  ctx: RefContext,
  ref: string,
  expected: string | null | undefined,
  next: string | null,
): Promise<{ ok: true } | { ok: false; current: string | null; reason: string }> {
  const file = path.join(ctx.gitdir, ref);
  const lockFile = `${file}.lock`;
  let handle: fs.promises.FileHandle | undefined;
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    handle = await fs.promises.open(lockFile, 'wx');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      current: await readLocalRef(ctx, ref).catch(() => null),
      reason: code === 'EEXIST' ? `${ref} is locked by another writer` : `cannot lock ${ref}: ${code ?? (error as Error).message}`,
    };
  }
  let done = false;
  try {
    const current = await readLocalRef(ctx, ref);
    if (expected !== undefined && current !== expected) {
      return { ok: false, current, reason: `${ref} is at ${current ?? 'nothing'}, expected ${expected ?? 'nothing'}` };
    }
    if (next === null) {
      await handle.close();
      handle = undefined;
      // https://isomorphic-git.org/docs/en/deleteRef — removes the loose ref and its packed-refs line.
      await git.deleteRef({ fs: ctx.store.fs, gitdir: ctx.gitdir, ref });
    } else {
      await handle.writeFile(`${next}\n`);
      await handle.close();
      handle = undefined;
      await fs.promises.rename(lockFile, file);
      done = true;
    }
    return { ok: true };
  } finally {
    await handle?.close().catch(() => undefined);
    if (!done) await fs.promises.unlink(lockFile).catch(() => undefined);
  }
}

export async function setLocalRef(ctx: RefContext, ref: string, oid: string | null): Promise<void> {
  const result = await casRef(ctx, ref, undefined, oid);
  if (!result.ok) throw errors.internal(`Cannot update the local ref ${ref}: ${result.reason}`);
}
