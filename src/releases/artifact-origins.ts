// Who added an artifact to the default branch, and when: for zips made by other tools (Retool
// writes no .release.json), the commit that added the zip is the only record. Found by a binary
// search along the default branch's first-parent history (an artifact, once merged, never changes,
// so "the path holds this blob" is true from that commit on), and remembered per path and blob.
import { blobId } from '../git/object-id.js';
import type { CommitInfo, GitGateway } from '../git/types.js';

export interface ArtifactOrigin {
  readonly commit: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** How far back the search looks; an artifact older than this is dated by the oldest commit seen. */
const HISTORY_LIMIT = 20_000;
const REMEMBERED = 50_000;

export function createArtifactOrigins(git: GitGateway) {
  const remembered = new Map<string, ArtifactOrigin>();
  let history: { head: string; chain: Promise<CommitInfo[]> } | undefined;

  /** The first-parent chain from `head`, newest first; one walk per head, shared by callers. */
  function chainOf(head: string): Promise<CommitInfo[]> {
    if (history?.head !== head) {
      const chain = git.log({ ref: head, limit: HISTORY_LIMIT }).then((commits) => {
        const bySha = new Map(commits.map((c) => [c.sha, c]));
        const out: CommitInfo[] = [];
        for (let c = bySha.get(head); c; c = c.parents[0] ? bySha.get(c.parents[0]) : undefined) out.push(c);
        return out;
      });
      chain.catch(() => (history = undefined));
      history = { head, chain };
    }
    return history.chain;
  }

  return {
    async of(head: string, path: string, blob: string): Promise<ArtifactOrigin | null> {
      const key = `${path}\0${blob}`;
      const known = remembered.get(key);
      if (known) return known;
      const chain = await chainOf(head);
      const holds = async (i: number) => {
        const bytes = await git.readFile({ ref: chain[i]!.sha, path });
        return bytes !== null && blobId(bytes) === blob;
      };
      if (chain.length === 0 || !(await holds(0))) return null;
      // Invariant: chain[lo] holds the blob; chain[hi] does not (or hi is past the end).
      let lo = 0;
      let hi = chain.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (await holds(mid)) lo = mid;
        else hi = mid;
      }
      const commit = chain[lo]!;
      const origin = { commit: commit.sha, createdAt: new Date(commit.author.timestamp * 1000).toISOString(), createdBy: commit.author.name };
      if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
      remembered.set(key, origin);
      return origin;
    },
  };
}
