-- 'opening': a hotfix is recorded before its branch is pushed, and turned open in one transaction
-- with its audit event, so a failure in between leaves no open hotfix without its event, and a
-- process killed after the push leaves a row naming the branch, which the sweeper
-- (src/pull-requests/orphans.ts) removes with the branch. An opening row is nobody's hotfix yet:
-- the API never shows it. It claims its line like an open one, so concurrent creates still give
-- exactly one row.
alter table hotfixes drop constraint hotfixes_state_check;
alter table hotfixes add constraint hotfixes_state_check
  check (state in ('opening', 'open', 'released', 'abandoned'));

drop index hotfixes_open_line_idx;
create unique index hotfixes_open_line_idx on hotfixes (element_type, element_uuid, line)
  where state in ('opening', 'open');
