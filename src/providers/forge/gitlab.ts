// GitLab (gitlab.com and self-managed) merge requests over the REST API v4, typed from GitLab's
// OpenAPI (test/contracts/forges/gitlab.merge-requests.openapi.json).
// https://docs.gitlab.com/api/merge_requests/
import type { PullRequestRow } from '../../db/database.js';
import type { ForgeEvent, ForgeProvider, ProviderPullRequest } from '../types.js';
import { type ForgeDeps, fitDescription, forgeEvent } from './adapter.js';
import { createForgeHttp } from './http.js';
import { fullSha, headerValue, verifyTokenHeader } from './signatures.js';

/** The fields we read of `API_Entities_MergeRequest(Basic)`. */
interface GitLabMergeRequest {
  id: number;
  iid: number;
  web_url: string;
  state: 'opened' | 'closed' | 'locked' | 'merged';
  merge_commit_sha: string | null;
  squash_commit_sha?: string | null;
  source_branch: string;
  sha?: string;
}

// GitLab's description limit is 1,048,576 characters; keep descriptions readable.
const DESCRIPTION_LIMIT = 60_000;

export function createGitLabProvider(deps: ForgeDeps): ForgeProvider {
  const base = `/api/v4/projects/${encodeURIComponent(deps.config.repository)}`;
  const http = createForgeHttp({
    provider: 'gitlab',
    baseUrl: deps.config.apiUrl,
    // Personal, project and group access tokens and OAuth tokens all work as bearer tokens.
    headers: { authorization: `Bearer ${deps.config.token}`, accept: 'application/json', 'user-agent': 'mir' },
  });

  const view = (mr: GitLabMergeRequest): ProviderPullRequest => ({
    externalId: String(mr.iid),
    number: mr.iid,
    url: mr.web_url,
    state: mr.state === 'merged' ? 'merged' : mr.state === 'closed' ? 'closed' : 'open',
    mergeCommit: mr.state === 'merged' ? (fullSha(mr.merge_commit_sha) ?? fullSha(mr.squash_commit_sha)) : null,
    sourceBranch: mr.source_branch,
  });
  const iidOf = (row: PullRequestRow) => row.external_number ?? Number(row.external_id);

  return {
    name: 'gitlab',

    async open({ pullRequest: row }) {
      const existing = await http.request<GitLabMergeRequest[]>('GET', `${base}/merge_requests`, {
        query: { state: 'opened', source_branch: row.source_branch, target_branch: row.target_branch, per_page: 100 },
      });
      const same = existing.body.find((mr) => mr.source_branch === row.source_branch);
      if (same) return view(same);
      const created = await http.request<GitLabMergeRequest>('POST', `${base}/merge_requests`, {
        body: {
          source_branch: row.source_branch,
          target_branch: row.target_branch,
          title: row.title,
          description: fitDescription(row.body, DESCRIPTION_LIMIT),
          remove_source_branch: true,
        },
      });
      return view(created.body);
    },

    async get(row) {
      return view((await http.request<GitLabMergeRequest>('GET', `${base}/merge_requests/${iidOf(row)}`)).body);
    },

    async merge(row) {
      // `sha`: GitLab answers 409 when the source branch moved since we pushed it.
      const merged = await http.request<GitLabMergeRequest>('PUT', `${base}/merge_requests/${iidOf(row)}/merge`, {
        body: { sha: row.head_commit, should_remove_source_branch: true, merge_commit_message: `Merge branch '${row.source_branch}'\n\n${row.title}` },
      });
      const mergeCommit = fullSha(merged.body.merge_commit_sha) ?? fullSha(merged.body.squash_commit_sha);
      return { mergeCommit: mergeCommit ?? '' };
    },

    async close(row) {
      await http.request('PUT', `${base}/merge_requests/${iidOf(row)}`, { body: { state_event: 'close' } });
      await deps.deleteBranch(row.source_branch);
    },

    async list(filter) {
      const state = filter.state === 'open' || filter.state === 'conflicted' ? 'opened' : (filter.state ?? 'all');
      const mrs = await http.request<GitLabMergeRequest[]>('GET', `${base}/merge_requests`, {
        query: { state, target_branch: deps.defaultBranch, per_page: 100 },
      });
      return mrs.body.map(view);
    },

    async annotate(row, note) {
      await http.request('PUT', `${base}/merge_requests/${iidOf(row)}`, {
        body: { description: fitDescription(`${row.body}\n\n---\n${note}`, DESCRIPTION_LIMIT) },
      });
    },

    async check() {
      await http.request('GET', base);
    },

    verifyWebhook(headers, _rawBody, secret) {
      // https://docs.gitlab.com/user/project/integrations/webhooks/#create-a-webhook (secret token)
      verifyTokenHeader('gitlab', headers, 'x-gitlab-token', secret);
    },

    parseWebhook(headers, payload): ForgeEvent | null {
      const body = payload as { object_kind?: string; user?: { username?: string }; object_attributes?: GitLabMergeRequest & { action?: string } };
      if (headerValue(headers, 'x-gitlab-event') !== 'Merge Request Hook' && body.object_kind !== 'merge_request') return null;
      const mr = body.object_attributes;
      if (!mr || typeof mr.iid !== 'number') return null;
      return forgeEvent(view(mr), mr.source_branch, body.user?.username);
    },
  };
}
