// Bitbucket Cloud pull requests over the REST API 2.0, typed from Atlassian's published swagger
// (test/contracts/forges/bitbucket.pullrequests.openapi.json). Bodies carry `type`, which that
// description requires. https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/
import type { PullRequestRow } from '../../db/database.js';
import type { ForgeEvent, ForgeProvider, ProviderPullRequest } from '../types.js';
import { type ForgeDeps, fitDescription, forgeEvent } from './adapter.js';
import { createForgeHttp } from './http.js';
import { fullSha, headerValue, verifyHmacHeader } from './signatures.js';

/** The fields we read of Bitbucket's `pullrequest`. */
interface BitbucketPullRequest {
  id: number;
  state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';
  links?: { html?: { href?: string } };
  merge_commit?: { hash?: string } | null;
  source?: { branch?: { name?: string }; commit?: { hash?: string } };
}

interface BitbucketPage<T> {
  values?: T[];
  next?: string;
}

const DESCRIPTION_LIMIT = 30_000;
const MAX_PAGES = 10;

export function createBitbucketProvider(deps: ForgeDeps): ForgeProvider {
  const [workspace, slug] = deps.config.repository.split('/') as [string, string];
  const base = `/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}`;
  const http = createForgeHttp({
    provider: 'bitbucket',
    baseUrl: deps.config.apiUrl,
    // Repository, project and workspace access tokens are bearer tokens.
    headers: { authorization: `Bearer ${deps.config.token}`, accept: 'application/json', 'user-agent': 'mir' },
  });

  const webUrl = (pr: BitbucketPullRequest) => pr.links?.html?.href ?? `https://bitbucket.org/${workspace}/${slug}/pull-requests/${pr.id}`;
  const view = (pr: BitbucketPullRequest): ProviderPullRequest => ({
    externalId: String(pr.id),
    number: pr.id,
    url: webUrl(pr),
    state: pr.state === 'MERGED' ? 'merged' : pr.state === 'OPEN' ? 'open' : 'closed',
    // Bitbucket often abbreviates merge commits (12 characters): null then, resolved after a fetch.
    mergeCommit: pr.state === 'MERGED' ? fullSha(pr.merge_commit?.hash) : null,
    sourceBranch: pr.source?.branch?.name ?? null,
  });
  const idOf = (row: PullRequestRow) => row.external_number ?? Number(row.external_id);

  /** Open pull requests, page by page (the description has no branch filter). */
  async function openPullRequests(): Promise<BitbucketPullRequest[]> {
    const all: BitbucketPullRequest[] = [];
    let page = await http.request<BitbucketPage<BitbucketPullRequest>>('GET', `${base}/pullrequests`, { query: { state: 'OPEN' } });
    for (let pages = 1; ; pages++) {
      all.push(...(page.body.values ?? []));
      const next = page.body.next;
      if (!next || pages >= MAX_PAGES) return all;
      const url = new URL(next);
      page = await http.request<BitbucketPage<BitbucketPullRequest>>('GET', `${base}/pullrequests`, { query: Object.fromEntries(url.searchParams) });
    }
  }

  return {
    name: 'bitbucket',

    async open({ pullRequest: row }) {
      const same = (await openPullRequests()).find((pr) => pr.source?.branch?.name === row.source_branch);
      if (same) return view(same);
      const created = await http.request<BitbucketPullRequest>('POST', `${base}/pullrequests`, {
        body: {
          type: 'pullrequest',
          title: row.title,
          summary: { raw: fitDescription(row.body, DESCRIPTION_LIMIT) },
          source: { branch: { name: row.source_branch } },
          destination: { branch: { name: row.target_branch } },
          close_source_branch: true,
        },
      });
      return view(created.body);
    },

    async get(row) {
      return view((await http.request<BitbucketPullRequest>('GET', `${base}/pullrequests/${idOf(row)}`)).body);
    },

    async merge(row) {
      const merged = await http.request<BitbucketPullRequest>('POST', `${base}/pullrequests/${idOf(row)}/merge`, {
        body: {
          type: 'pullrequest_merge_parameters',
          message: `Merged in ${row.source_branch} (pull request #${idOf(row)})\n\n${row.title}`,
          close_source_branch: true,
          merge_strategy: 'merge_commit',
        },
      });
      return { mergeCommit: fullSha(merged.body?.merge_commit?.hash) ?? '' };
    },

    async close(row) {
      await http.request('POST', `${base}/pullrequests/${idOf(row)}/decline`);
      await deps.deleteBranch(row.source_branch);
    },

    async list(filter) {
      if (filter.state && filter.state !== 'open' && filter.state !== 'conflicted') return [];
      return (await openPullRequests()).map(view);
    },

    async annotate(row, note) {
      await http.request('PUT', `${base}/pullrequests/${idOf(row)}`, {
        body: { type: 'pullrequest', title: row.title, summary: { raw: fitDescription(`${row.body}\n\n---\n${note}`, DESCRIPTION_LIMIT) } },
      });
    },

    async check() {
      await http.request('GET', base);
    },

    verifyWebhook(headers, rawBody, secret) {
      // https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks
      verifyHmacHeader('bitbucket', headers, 'x-hub-signature', rawBody, secret);
    },

    parseWebhook(headers, payload): ForgeEvent | null {
      const event = headerValue(headers, 'x-event-key') ?? '';
      if (!event.startsWith('pullrequest:')) return null;
      const body = payload as { pullrequest?: BitbucketPullRequest; actor?: { nickname?: string; display_name?: string } };
      const pr = body.pullrequest;
      if (!pr || typeof pr.id !== 'number') return null;
      const seen = view(pr);
      return forgeEvent(seen, seen.sourceBranch, body.actor?.nickname ?? body.actor?.display_name);
    },
  };
}
