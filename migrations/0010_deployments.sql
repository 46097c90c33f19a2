-- What each instance runs (deployments it reports), when it last asked what to run, the drift mir
-- has observed, and outbound events: a transactional outbox, webhook subscriptions, and per
-- subscription the state and log of each delivery.

-- Last contact: written (at most every few seconds) when the instance polls its releases.
alter table instances add column last_seen_at timestamptz;
alter table instances add column last_seen_commit text check (last_seen_commit is null or last_seen_commit ~ '^[0-9a-f]{40}$');

-- A token bound to one instance may report deployments for that instance only (and read only it).
-- No foreign key: a token outlives the instance it was made for, and then opens nothing.
alter table api_tokens add column instance text check (instance is null or instance ~ '^[a-z0-9][a-z0-9_-]{0,62}$');

create table deployments (
  id            uuid primary key default gen_random_uuid(),
  -- The listing's order (newest first) and its cursor: an increasing number, not a timestamp that
  -- two reports could share.
  seq           bigint generated always as identity unique,
  instance      text not null references instances (name) on delete cascade,
  commit_sha    text not null check (commit_sha ~ '^[0-9a-f]{40}$'),
  status        text not null check (status in ('PENDING_START', 'RUNNING', 'SUCCESS', 'ERROR')),
  triggered_by  text not null,
  -- [{uuid, type, release}] the instance says it runs once this deployment is done; null: not said.
  elements      jsonb,
  message       text check (message is null or length(message) <= 2000),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  completed_at  timestamptz
);
create index deployments_instance_idx on deployments (instance, seq desc);
create index deployments_status_idx on deployments (status, seq desc);
create index deployments_success_idx on deployments (instance, seq desc) where status = 'SUCCESS';

-- Elements whose deployed release differs from the one the instance's manifest sets, as last
-- evaluated, and since when: the first evaluation that saw the difference.
create table deployment_drift (
  instance      text not null references instances (name) on delete cascade,
  element_type  text not null check (element_type in ('PAGE', 'WORKFLOW')),
  element_uuid  uuid not null,
  desired       text,
  deployed      text,
  since         timestamptz not null,
  primary key (instance, element_type, element_uuid)
);

-- Events, written in the transaction of the change that causes them; `id` is the event's stable id
-- (receivers dedupe on it). `fanned_out_at` is set once a delivery row exists for every matching
-- subscription.
create table outbox_events (
  id             uuid primary key,
  seq            bigint generated always as identity unique,
  type           text not null check (type ~ '^[a-z_]+\.[a-z_]+$'),
  payload        jsonb not null,
  occurred_at    timestamptz not null,
  fanned_out_at  timestamptz
);
create index outbox_events_pending_idx on outbox_events (seq) where fanned_out_at is null;
create index outbox_events_occurred_idx on outbox_events (occurred_at);

create table webhook_subscriptions (
  id           uuid primary key default gen_random_uuid(),
  url          text not null check (length(url) <= 2000),
  -- Needed in clear to sign; never returned by the API after creation, never logged.
  secret       text not null check (length(secret) between 16 and 200),
  event_types  text[] not null check (cardinality(event_types) > 0),
  active       boolean not null default true,
  description  text not null default '' check (length(description) <= 1000),
  created_by   text not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

-- One row per (event, subscription): where its delivery stands. A replica claims a due row by
-- moving `next_attempt_at` past the attempt's timeout under FOR UPDATE SKIP LOCKED, then sends
-- outside any transaction; a replica that dies mid-send leaves the row due again once that passes.
create table webhook_deliveries (
  id               bigint generated always as identity primary key,
  event_id         uuid not null references outbox_events (id) on delete cascade,
  subscription_id  uuid not null references webhook_subscriptions (id) on delete cascade,
  state            text not null default 'pending' check (state in ('pending', 'delivered', 'dead')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null,
  claim            uuid,
  last_error       text,
  created_at       timestamptz not null,
  delivered_at     timestamptz,
  dead_at          timestamptz,
  unique (event_id, subscription_id)
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_subscription_idx on webhook_deliveries (subscription_id, state);

-- The delivery log: one row per attempt.
create table webhook_attempts (
  id                bigint generated always as identity primary key,
  delivery_id       bigint not null references webhook_deliveries (id) on delete cascade,
  subscription_id   uuid not null references webhook_subscriptions (id) on delete cascade,
  event_id          uuid not null,
  attempt           integer not null,
  outcome           text not null check (outcome in ('delivered', 'failed', 'timeout')),
  response_code     integer,
  response_excerpt  text,
  duration_ms       integer not null,
  attempted_at      timestamptz not null
);
create index webhook_attempts_subscription_idx on webhook_attempts (subscription_id, id desc);
create index webhook_attempts_attempted_idx on webhook_attempts (attempted_at);
