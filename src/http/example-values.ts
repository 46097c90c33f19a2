// The one made-up world the OpenAPI document's examples share, so that an example answer names the
// app, commit and pull request the example request before it did: the app `checkout` (a PAGE) and
// the workflow `nightly-sync` in the manifests `prod` and `uat`, followed by the instance `prod-eu`.

export const EXAMPLE = {
  app: '0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11',
  appName: 'checkout',
  workflow: '5b1e8c3a-9f2d-4e7b-8c61-3a4d2e9f7b05',
  workflowName: 'nightly-sync',
  /** The default branch as the caller read it. */
  commit: '8a4c8ebeef7bb3427bb2de1472d597c27502b472',
  /** The head of a pushed branch. */
  branchCommit: '1a3dd7df7255dd7e77cb765d071019da18af43ff',
  /** The default branch after a merge. */
  mergeCommit: 'b2ce77b835daf5e40d4741b900e60acd7381c0ca',
  sha256: '0cefd6ee71891b5184198defd801481bd85f318505b3b03cd5cc7c6df0c644d6',
  token: '9e2f7bd8-157f-4799-88d3-735947c4cdce',
  hotfix: '4c8f1ce9-46b4-4cc8-b6ec-206a33c92547',
  deployment: '6a0f3b9e-2c4d-4e8f-9a1b-7c5d3e2f1a09',
  subscription: 'c3e1a7d2-5b9f-4c60-8e2a-1d4b6f8a9c37',
  event: '0f9b2d64-8a1e-4c3f-b5d7-2e6a9c1f4b80',
  hold: '7d2a0b6e-93c1-4f5e-a8d4-1b6c9e3f2a70',
  requestId: '3f1c9a52-7d4e-4b8a-9e21-6c0d5b7a8f34',
  pullRequest: 12,
  pullRequestUrl: 'https://mir.example.com/api/v2/source_control/pull_requests/12',
  at: '2026-11-30T09:15:02.118Z',
  later: '2026-11-30T09:41:27.530Z',
  actor: 'release-bot',
} as const;
