-- Hotfix lines (DESIGN §3): at most one open hotfix per element and major.minor line. The partial
-- unique index is what enforces it, so concurrent creates from several processes give exactly one
-- row; the others fail the insert and answer 409 hotfix_exists.
create table hotfixes (
  id              uuid primary key default gen_random_uuid(),
  element_type    text not null check (element_type in ('PAGE', 'WORKFLOW')),
  element_uuid    text not null check (element_uuid ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
  line            text not null check (line ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'),
  -- The newest release of the line when the hotfix was created: what the branch's folder holds.
  base_version    text not null,
  branch          text not null,
  -- The branch's first commit: commits after it are the fix.
  base_commit     text not null check (base_commit ~ '^[0-9a-f]{40}$'),
  state           text not null default 'open' check (state in ('open', 'released', 'abandoned')),
  -- The patch release proposed from the branch, its pull request and the commit it was built from.
  release_version text,
  pull_request    integer references pull_requests (number),
  release_commit  text check (release_commit ~ '^[0-9a-f]{40}$'),
  author          text not null,
  author_email    text not null,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  released_at     timestamptz,
  abandoned_at    timestamptz,
  abandoned_by    text
);

create unique index hotfixes_open_line_idx on hotfixes (element_type, element_uuid, line) where state = 'open';
create index hotfixes_created_idx on hotfixes (created_at desc, id);
create index hotfixes_element_idx on hotfixes (element_uuid, created_at desc);
