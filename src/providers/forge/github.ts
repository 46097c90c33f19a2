// GitHub (github.com and GitHub Enterprise Server) pull requests over the REST API, typed from
// github/rest-api-description (test/contracts/forges/github.pulls.openapi.json).
// https://docs.github.com/en/rest/pulls/pulls
import type { PullRequestRow } from '../../db/database.js';
import type { ForgeEvent, ForgeProvider, ProviderPullRequest } from '../types.js';
import { createForgeHttp } from './http.js';
import { fullSha, verifyHmacHeader, headerValue } from './signatures.js';
import { type ForgeDeps, forgeEvent } from './adapter.js';

/** The fields we read of GitHub's `pull-request` / `pull-request-simple`. */
interface GitHubPull {
  id: number;
  number: number;
  html_url: string;
  state: 'open' | 'closed';
  merged?: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { ref: string; sha: string };
}

interface GitHubMergeResult {
  sha: string;
  merged: boolean;
  message: string;
}

export function createGitHubProvider(deps: ForgeDeps): ForgeProvider {
  const [owner, repo] = deps.config.repository.split('/') as [string, string];
  const base = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  const http = createForgeHttp({
    provider: 'github',
    baseUrl: deps.config.apiUrl,
    headers: {
      authorization: `Bearer ${deps.config.token}`,
      // GitHub's media type first; plain JSON too, which GitHub serves the same (and mocks need).
      accept: 'application/vnd.github+json, application/json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'mir',
    },
  });

  const view = (pull: GitHubPull): ProviderPullRequest => ({
    externalId: String(pull.number),
    number: pull.number,
    url: pull.html_url,
    state: pull.state === 'open' ? 'open' : pull.merged || pull.merged_at ? 'merged' : 'closed',
    mergeCommit: pull.merged || pull.merged_at ? fullSha(pull.merge_commit_sha) : null,
    sourceBranch: pull.head.ref,
  });
  const numberOf = (row: PullRequestRow) => row.external_number ?? Number(row.external_id);

  return {
    name: 'github',

    async open({ pullRequest: row }) {
      // Reuse an open pull request for the branch (a retried write, or one opened by hand).
      const existing = await http.request<GitHubPull[]>('GET', `${base}/pulls`, {
        query: { state: 'open', head: `${owner}:${row.source_branch}`, base: row.target_branch, per_page: 100 },
      });
      const same = existing.body.find((pull) => pull.head.ref === row.source_branch);
      if (same) return view(same);
      const created = await http.request<GitHubPull>('POST', `${base}/pulls`, {
        body: { title: row.title, head: row.source_branch, base: row.target_branch, body: row.body, maintainer_can_modify: false },
      });
      return view(created.body);
    },

    async get(row) {
      return view((await http.request<GitHubPull>('GET', `${base}/pulls/${numberOf(row)}`)).body);
    },

    async merge(row) {
      // `sha` makes GitHub refuse (409) when the branch moved since we last pushed it.
      const merged = await http.request<GitHubMergeResult>('PUT', `${base}/pulls/${numberOf(row)}/merge`, {
        body: {
          commit_title: `Merge pull request #${numberOf(row)} from ${row.source_branch}`,
          commit_message: row.title,
          sha: row.head_commit,
          merge_method: 'merge',
        },
      });
      return { mergeCommit: merged.body.sha };
    },

    async close(row) {
      await http.request('PATCH', `${base}/pulls/${numberOf(row)}`, { body: { state: 'closed' } });
      await deps.deleteBranch(row.source_branch);
    },

    async list(filter) {
      const state = filter.state === 'open' || filter.state === 'conflicted' ? 'open' : filter.state ? 'closed' : 'all';
      const pulls = await http.request<GitHubPull[]>('GET', `${base}/pulls`, { query: { state, base: deps.defaultBranch, per_page: 100 } });
      return pulls.body.map(view).filter((pull) => !filter.state || filter.state === 'conflicted' || pull.state === filter.state);
    },

    async annotate(row, note) {
      // The description carries the note: this provider's API subset has no comment endpoint.
      await http.request('PATCH', `${base}/pulls/${numberOf(row)}`, { body: { body: `${row.body}\n\n---\n${note}` } });
    },

    async check() {
      await http.request('GET', base);
    },

    verifyWebhook(headers, rawBody, secret) {
      // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
      verifyHmacHeader('github', headers, 'x-hub-signature-256', rawBody, secret);
    },

    parseWebhook(headers, payload): ForgeEvent | null {
      if (headerValue(headers, 'x-github-event') !== 'pull_request') return null;
      const body = payload as { action?: string; pull_request?: GitHubPull & { merged_by?: { login?: string } | null }; sender?: { login?: string } };
      const pull = body.pull_request;
      if (!pull || typeof pull.number !== 'number') return null;
      return forgeEvent(view(pull), pull.head?.ref, pull.merged_by?.login ?? body.sender?.login);
    },
  };
}
