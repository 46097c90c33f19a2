// The gateway's public reads of the local repository: the default branch's commit, a file, a blob
// or a folder at a ref, and the branches.
import { errors } from '../errors.js';
import { isSha, localHeads, readLocalRef, resolveRef } from './local-refs.js';
import { checkChangePath } from './tree-surgery.js';
import type { BranchInfo, FolderFile, GitGateway } from './types.js';
import { internal, type GatewayContext } from './gateway-context.js';

type ReadContext = Pick<GatewayContext, 'store' | 'gitdir'>;

const byteOrder = (a: { path: string }, b: { path: string }) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

export async function headCommit(ctx: GatewayContext): Promise<string> {
  // The default branch as of the last fetch (poll, before each write, on demand) or of our own
  // last move of it: the hot read paths ask on every request, and reading the ref from disk
  // each time would cost more than serving the cached answer. Reads are therefore as fresh as
  // the last fetch, in both modes: the poll interval bounds how stale a read may be.
  if (ctx.lastHead) return ctx.lastHead;
  const head = await readLocalRef(ctx, ctx.defaultRef);
  if (!head) throw errors.gitUnavailable(`${ctx.remoteLabel} has no branch ${ctx.defaultBranch}`);
  return head;
}

/** The tree entry at `filePath` in the commit `ref` names; undefined when any part is missing. */
async function entryAt(ctx: ReadContext, ref: string, filePath: string): Promise<{ oid: string; type: string } | undefined> {
  const sha = await resolveRef(ctx, ref);
  if (!sha) return undefined;
  let tree = (await ctx.store.readCommit(sha)).tree;
  const segments = filePath === '' ? [] : checkChangePath(filePath);
  let entry: { oid: string; type: string } = { oid: tree, type: 'tree' };
  for (const segment of segments) {
    if (entry.type !== 'tree') return undefined;
    const found = (await ctx.store.readTree(tree)).find((e) => e.path === segment);
    if (!found) return undefined;
    entry = found;
    tree = found.oid;
  }
  return entry;
}

/** The files under a tree, by blob id: trees are read, blobs are not. */
async function collect(ctx: ReadContext, tree: string, prefix: string, out: { path: string; oid: string; executable: boolean }[]): Promise<void> {
  const entries = await ctx.store.readTree(tree);
  await Promise.all(
    entries.map(async (e) => {
      if (e.type === 'tree') await collect(ctx, e.oid, `${prefix}${e.path}/`, out);
      else if (e.type === 'blob' && (e.mode === '100644' || e.mode === '100755')) {
        out.push({ path: `${prefix}${e.path}`, oid: e.oid, executable: e.mode === '100755' });
      }
    }),
  );
}

export async function readFile(ctx: ReadContext, { ref, path: filePath }: Parameters<GitGateway['readFile']>[0]): Promise<Uint8Array | null> {
  try {
    const entry = await entryAt(ctx, ref, filePath);
    return entry?.type === 'blob' ? await ctx.store.readBlob(entry.oid) : null;
  } catch (error) {
    return internal('readFile', error);
  }
}

export async function readBlob(ctx: ReadContext, { oid }: Parameters<GitGateway['readBlob']>[0]): Promise<Uint8Array | null> {
  if (!isSha(oid)) return null;
  try {
    return (await ctx.store.has(oid)) ? await ctx.store.readBlob(oid) : null;
  } catch (error) {
    return internal('readBlob', error);
  }
}

export async function readFolder(ctx: ReadContext, { ref, path: folder, maxBytes }: Parameters<GitGateway['readFolder']>[0]): Promise<FolderFile[] | null> {
  try {
    const entry = await entryAt(ctx, ref, folder.replace(/\/+$/, ''));
    if (entry?.type !== 'tree') return null;
    const files: { path: string; oid: string; executable: boolean }[] = [];
    await collect(ctx, entry.oid, '', files);
    if (maxBytes !== undefined) {
      // From object headers alone, so a folder over the limit costs no blob in memory.
      const total = (await ctx.store.objectSizes(files.map((f) => f.oid))).reduce((sum, size) => sum + size, 0);
      if (total > maxBytes) {
        const reason = `source folder holds ${total} bytes in ${files.length} files`;
        throw errors.artifactTooLarge(`Artifact too large (${folder}): ${reason}`, { reason, limit: 'total_bytes', max: maxBytes, path: folder });
      }
    }
    const out = await Promise.all(
      files.map(async (f): Promise<FolderFile> => ({ path: f.path, bytes: await ctx.store.readBlob(f.oid), executable: f.executable })),
    );
    return out.sort(byteOrder);
  } catch (error) {
    return internal('readFolder', error);
  }
}

export async function listBranches(ctx: ReadContext, { prefix = '' }: Parameters<GitGateway['listBranches']>[0]): Promise<BranchInfo[]> {
  const heads = await localHeads(ctx);
  const out: BranchInfo[] = [];
  for (const [name, sha] of heads) if (name.startsWith(prefix)) out.push({ name, sha });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
