-- Pull requests: every change this service proposes. The intent (the operations, as JSON) is what a
-- merge re-applies on the current default branch; the branch's own commit is never text-merged.
create table pull_requests (
  number         integer generated always as identity primary key,
  provider       text not null default 'builtin',
  -- The forge's own identity of the pull request (null for builtin).
  external_id    text,
  external_number integer,
  external_url   text,
  kind           text not null check (kind in ('manifest', 'release', 'publish', 'hotfix_release')),
  title          text not null,
  body           text not null default '',
  source_branch  text not null,
  target_branch  text not null,
  base_commit    text not null check (base_commit ~ '^[0-9a-f]{40}$'),
  head_commit    text not null check (head_commit ~ '^[0-9a-f]{40}$'),
  state          text not null default 'open' check (state in ('open', 'merged', 'closed', 'conflicted')),
  intent         jsonb not null,
  conflicts      jsonb,
  author         text not null,
  author_email   text not null,
  merge_commit   text check (merge_commit ~ '^[0-9a-f]{40}$'),
  merged_by      text,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  merged_at      timestamptz,
  closed_at      timestamptz
);

-- One live pull request per branch: a branch name is never reused while its pull request is open.
create unique index pull_requests_live_branch_idx on pull_requests (source_branch)
  where state in ('open', 'conflicted');
create index pull_requests_state_idx on pull_requests (state, number desc);
create unique index pull_requests_external_idx on pull_requests (provider, external_id)
  where external_id is not null;
