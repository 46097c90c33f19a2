-- API tokens: only a sha256 of each token is kept. A revoked token stays for the audit trail.
create table api_tokens (
  id            uuid primary key default gen_random_uuid(),
  name          text not null check (length(name) between 1 and 100),
  email         text,
  token_hash    text not null unique,
  token_prefix  text not null,
  scopes        text[] not null check (cardinality(scopes) > 0),
  created_by    text,
  created_at    timestamptz not null default now(),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- Who did what, to what, when, and through which request. Append-only: the trigger below refuses
-- updates and deletes, so an audit row, once written, is what happened.
create table audit_events (
  id           bigint generated always as identity primary key,
  occurred_at  timestamptz not null default now(),
  actor        text not null,
  action       text not null,
  target       text not null,
  details      jsonb not null default '{}'::jsonb,
  request_id   text
);
create index audit_events_target_idx on audit_events (target, occurred_at desc);
create index audit_events_occurred_at_idx on audit_events (occurred_at desc);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only (% refused)', tg_op;
end;
$$;
create trigger audit_events_no_update before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_events_append_only();
