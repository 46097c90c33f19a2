// A small stateful stand-in for GitHub's pull request API, for tests that need what a static mock
// cannot give: distinct numbers per pull request, states that change, refusals. Shapes follow
// GitHub's `pull-request` (the fields the adapter reads); the contract itself is checked against
// GitHub's own description in test/providers/forge-contracts.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  state: 'open' | 'closed';
  merged: boolean;
  merge_commit_sha: string | null;
}

export interface FakeGitHub {
  readonly url: string;
  readonly pulls: Map<number, FakePull>;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
  /** A fixed answer to merge requests (a refusal), else `onMerge` decides. */
  mergeAnswer: { status: number; body: unknown } | null;
  /** Merges the pull request as GitHub would (e.g. a native git merge on the remote); returns the merge commit. */
  onMerge: ((pull: FakePull) => Promise<string>) | null;
}

export async function startFakeGitHub(t: Test, repository = 'acme/releases'): Promise<FakeGitHub> {
  const base = `/repos/${repository}`;
  const fake: FakeGitHub = { url: '', pulls: new Map(), requests: [], mergeAnswer: null, onMerge: null };
  let next = 100;
  const view = (p: FakePull) => ({
    id: p.number * 1000,
    number: p.number,
    html_url: `https://github.com/${repository}/pull/${p.number}`,
    state: p.state,
    title: p.title,
    body: p.body,
    merged: p.merged,
    merged_at: p.merged ? '2026-01-01T00:00:00Z' : null,
    merge_commit_sha: p.merge_commit_sha,
    head: { ref: p.head, sha: 'f'.repeat(40) },
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void answer().catch((error: unknown) => res.writeHead(500).end(String(error))));
    const answer = async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      fake.requests.push(`${req.method} ${url.pathname}`);
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const json = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const match = new RegExp(`^${base}/pulls/(\\d+)(/merge)?$`).exec(url.pathname);
      const pull = match ? fake.pulls.get(Number(match[1])) : undefined;
      if (req.method === 'GET' && url.pathname === base) return json(200, { full_name: repository });
      if (req.method === 'GET' && url.pathname === `${base}/pulls`) {
        const head = url.searchParams.get('head')?.split(':')[1];
        return json(200, [...fake.pulls.values()].filter((p) => p.state === 'open' && (!head || p.head === head)).map(view));
      }
      if (req.method === 'POST' && url.pathname === `${base}/pulls`) {
        const created: FakePull = {
          number: next++,
          title: String(body.title),
          body: String(body.body ?? ''),
          head: String(body.head),
          state: 'open',
          merged: false,
          merge_commit_sha: null,
        };
        fake.pulls.set(created.number, created);
        return json(201, view(created));
      }
      if (!pull) return json(404, { message: 'Not Found' });
      if (req.method === 'GET' && !match![2]) return json(200, view(pull));
      if (req.method === 'PATCH') {
        if (typeof body.body === 'string') pull.body = body.body;
        if (body.state === 'closed') pull.state = 'closed';
        return json(200, view(pull));
      }
      if (req.method === 'PUT' && match![2]) {
        if (fake.mergeAnswer) return json(fake.mergeAnswer.status, fake.mergeAnswer.body);
        if (!fake.onMerge || pull.state !== 'open') return json(405, { message: 'Pull Request is not mergeable' });
        const sha = await fake.onMerge(pull);
        Object.assign(pull, { state: 'closed', merged: true, merge_commit_sha: sha });
        return json(200, { sha, merged: true, message: 'Pull Request successfully merged' });
      }
      return json(404, { message: 'Not Found' });
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return Object.assign(fake, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
