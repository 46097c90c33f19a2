// Azure Repos (Azure DevOps Services and Server) pull requests over the REST API 7.1, typed from
// MicrosoftDocs/vsts-rest-api-specs git.json (test/contracts/forges/azure.pullrequests.openapi.json).
// A personal access token goes as basic credentials with any user name.
// https://learn.microsoft.com/en-us/rest/api/azure/devops/git/pull-requests
import { setTimeout as sleep } from 'node:timers/promises';
import type { PullRequestRow } from '../../db/database.js';
import { errors } from '../../errors.js';
import type { ForgeEvent, ForgeProvider, ProviderPullRequest } from '../types.js';
import { type ForgeDeps, fitDescription, forgeEvent } from './adapter.js';
import { createForgeHttp } from './http.js';
import { fullSha, verifyBasicPassword } from './signatures.js';

/** The fields we read of `GitPullRequest` (none of which the description marks required). */
interface AzurePullRequest {
  pullRequestId?: number;
  status?: 'notSet' | 'active' | 'abandoned' | 'completed' | 'all';
  mergeStatus?: string;
  mergeFailureMessage?: string;
  sourceRefName?: string;
  lastMergeCommit?: { commitId?: string } | null;
  lastMergeSourceCommit?: { commitId?: string } | null;
  repository?: { webUrl?: string };
}

const API_VERSION = '7.1';
// Azure DevOps caps pull request descriptions at 4,000 characters.
const DESCRIPTION_LIMIT = 4_000;
// Completing a pull request is asynchronous: merge() polls for it this often, up to a timeout.
const COMPLETION_POLL_MS = 500;

export function createAzureProvider(deps: ForgeDeps): ForgeProvider {
  const [organization, project, repository] = deps.config.repository.split('/') as [string, string, string];
  const repoPath = `/${encodeURIComponent(organization)}/${encodeURIComponent(project)}/_apis/git/repositories/${encodeURIComponent(repository)}`;
  const http = createForgeHttp({
    provider: 'azure',
    baseUrl: deps.config.apiUrl,
    headers: { authorization: `Basic ${Buffer.from(`:${deps.config.token}`).toString('base64')}`, accept: 'application/json', 'user-agent': 'mir' },
  });
  const request = <T>(method: string, path: string, options: { query?: Record<string, string>; body?: unknown } = {}) =>
    http.request<T>(method, `${repoPath}${path}`, { ...options, query: { ...options.query, 'api-version': API_VERSION } });

  const ref = (branch: string) => `refs/heads/${branch}`;
  const webUrl = (pr: AzurePullRequest) =>
    `${pr.repository?.webUrl ?? `${deps.config.apiUrl}/${encodeURIComponent(organization)}/${encodeURIComponent(project)}/_git/${encodeURIComponent(repository)}`}/pullrequest/${pr.pullRequestId}`;
  const view = (pr: AzurePullRequest): ProviderPullRequest => ({
    externalId: String(pr.pullRequestId),
    number: pr.pullRequestId ?? 0,
    url: webUrl(pr),
    state: pr.status === 'completed' ? 'merged' : pr.status === 'abandoned' ? 'closed' : 'open',
    mergeCommit: pr.status === 'completed' ? fullSha(pr.lastMergeCommit?.commitId) : null,
    sourceBranch: pr.sourceRefName?.replace(/^refs\/heads\//, '') ?? null,
  });
  const idOf = (row: PullRequestRow) => row.external_number ?? Number(row.external_id);

  return {
    name: 'azure',

    async open({ pullRequest: row }) {
      const existing = await request<{ value?: AzurePullRequest[] }>('GET', '/pullrequests', {
        query: {
          'searchCriteria.sourceRefName': ref(row.source_branch),
          'searchCriteria.targetRefName': ref(row.target_branch),
          'searchCriteria.status': 'active',
        },
      });
      const same = (existing.body.value ?? []).find((pr) => pr.sourceRefName === ref(row.source_branch) && pr.pullRequestId !== undefined);
      if (same) return view(same);
      const created = await request<AzurePullRequest>('POST', '/pullrequests', {
        body: {
          sourceRefName: ref(row.source_branch),
          targetRefName: ref(row.target_branch),
          title: row.title,
          description: fitDescription(row.body, DESCRIPTION_LIMIT),
        },
      });
      if (created.body.pullRequestId === undefined) throw errors.providerUnavailable('azure', 'the created pull request has no pullRequestId');
      return view(created.body);
    },

    async get(row) {
      return view((await request<AzurePullRequest>('GET', `/pullrequests/${idOf(row)}`)).body);
    },

    async merge(row) {
      // lastMergeSourceCommit: Azure refuses when the branch moved since we pushed it.
      let pr = (
        await request<AzurePullRequest>('PATCH', `/pullrequests/${idOf(row)}`, {
          body: {
            status: 'completed',
            lastMergeSourceCommit: { commitId: row.head_commit },
            completionOptions: { deleteSourceBranch: true, mergeStrategy: 'noFastForward', mergeCommitMessage: `Merged PR ${idOf(row)}: ${row.title}` },
          },
        })
      ).body;
      const deadline = Date.now() + (deps.mergeCompletionTimeoutMs ?? 5_000);
      while (pr.status !== 'completed' && Date.now() < deadline) {
        if (pr.mergeStatus === 'conflicts' || pr.mergeStatus === 'failure' || pr.mergeStatus === 'rejectedByPolicy') break;
        await sleep(COMPLETION_POLL_MS);
        pr = (await request<AzurePullRequest>('GET', `/pullrequests/${idOf(row)}`)).body;
      }
      if (pr.status !== 'completed') {
        throw errors.providerRefused(
          'azure',
          pr.mergeFailureMessage ?? `the pull request was not completed (merge status ${pr.mergeStatus ?? 'unknown'})`,
          409,
        );
      }
      return { mergeCommit: fullSha(pr.lastMergeCommit?.commitId) ?? '' };
    },

    async close(row) {
      await request('PATCH', `/pullrequests/${idOf(row)}`, { body: { status: 'abandoned' } });
      await deps.deleteBranch(row.source_branch);
    },

    async list(filter) {
      const status = filter.state === 'merged' ? 'completed' : filter.state === 'closed' ? 'abandoned' : filter.state ? 'active' : 'all';
      const prs = await request<{ value?: AzurePullRequest[] }>('GET', '/pullrequests', {
        query: { 'searchCriteria.status': status, 'searchCriteria.targetRefName': ref(deps.defaultBranch) },
      });
      return (prs.body.value ?? []).filter((pr) => pr.pullRequestId !== undefined).map(view);
    },

    async annotate(row, note) {
      await request('PATCH', `/pullrequests/${idOf(row)}`, { body: { description: fitDescription(`${row.body}\n\n---\n${note}`, DESCRIPTION_LIMIT) } });
    },

    async check() {
      await request('GET', '');
    },

    verifyWebhook(headers, _rawBody, secret) {
      // Service hooks send the basic credentials configured on the subscription.
      // https://learn.microsoft.com/en-us/azure/devops/service-hooks/services/webhooks
      verifyBasicPassword('azure', headers, secret);
    },

    parseWebhook(_headers, payload): ForgeEvent | null {
      const body = payload as { eventType?: string; resource?: AzurePullRequest & { closedBy?: { uniqueName?: string } } };
      if (!body.eventType?.startsWith('git.pullrequest.')) return null;
      const pr = body.resource;
      if (!pr || typeof pr.pullRequestId !== 'number') return null;
      const seen = view(pr);
      return forgeEvent(seen, seen.sourceBranch, pr.closedBy?.uniqueName);
    },
  };
}
