-- Promotion (issue 17): pull requests that promote one manifest's releases to another, or roll an
-- element back; holds on release versions that must not come back; approvals of builtin pull
-- requests (the policy file in the repository says how many a manifest needs).
alter table pull_requests drop constraint pull_requests_kind_check;
alter table pull_requests add constraint pull_requests_kind_check
  check (kind in ('manifest', 'release', 'publish', 'hotfix_release', 'promotion', 'rollback'));

-- A hold keeps one version of one element out of every manifest until it is lifted, explicitly
-- or by a release of that element greater than it reaching the default branch.
create table release_holds (
  id              uuid primary key default gen_random_uuid(),
  element_type    text not null check (element_type in ('PAGE', 'WORKFLOW')),
  element_uuid    text not null check (element_uuid ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
  version         text not null check (version ~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'),
  -- The manifest it was rolled back in; the hold applies to every manifest.
  manifest        text not null check (manifest ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  reason          text not null check (length(reason) between 1 and 2000),
  pull_request    integer references pull_requests (number) on delete set null,
  created_by      text not null,
  created_at      timestamptz not null default now(),
  lifted_at       timestamptz,
  lifted_by       text,
  lift_reason     text check (lift_reason is null or length(lift_reason) <= 2000)
);
-- At most one active hold per version.
create unique index release_holds_active_idx on release_holds (element_type, element_uuid, version) where lifted_at is null;

create table pull_request_approvals (
  pull_request    integer not null references pull_requests (number) on delete cascade,
  -- The approving token's name: the actor a pull request's author is compared with.
  approver        text not null,
  token_id        uuid,
  approved_at     timestamptz not null default now(),
  primary key (pull_request, approver)
);
