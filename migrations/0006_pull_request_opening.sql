-- 'opening': a pull request is recorded before its branch is pushed, so a process killed between
-- the push and the pull request leaves a row naming the branch, and the sweeper
-- (src/pull-requests/orphans.ts) removes both. An opening row is nobody's pull request yet: the
-- API never lists it. Its branch name is reserved like a live one's.
alter table pull_requests drop constraint pull_requests_state_check;
alter table pull_requests add constraint pull_requests_state_check
  check (state in ('opening', 'open', 'merged', 'closed', 'conflicted'));

drop index pull_requests_live_branch_idx;
create unique index pull_requests_live_branch_idx on pull_requests (source_branch)
  where state in ('opening', 'open', 'conflicted');
