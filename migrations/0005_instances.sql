-- Deployment instances and the manifest each follows. The manifest lives in git; this is only the
-- binding, so an instance can be re-pointed (uat → prod manifest) without touching the repository.
create table instances (
  name         text primary key check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  description  text not null default '' check (length(description) <= 1000),
  url          text check (url is null or length(url) <= 2000),
  manifest     text check (manifest is null or manifest ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  created_by   text not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create index instances_manifest_idx on instances (manifest) where manifest is not null;
