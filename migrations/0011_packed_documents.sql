-- A pull request's intent and an event's payload become packed JSON (src/db/packed-json.ts): gzip'd
-- UTF-8 JSON in bytea, which the service packs and unpacks off the event loop. A whole-manifest
-- write of 14,000 entries made a 2 MB jsonb intent and a 1.5 MB jsonb event, each one synchronous
-- statement of ~90 ms in embedded PGlite. Rows already here keep their JSON as plain UTF-8 text,
-- which the reader tells from gzip by its first bytes.

-- The manifests in which a pull request's intent sets entries: what the policy's order and soak
-- rules look up among merged pull requests (src/policy/policy.service.ts), which SQL can no longer
-- read from inside the intent.
alter table pull_requests add column entry_manifests text[] not null default '{}';
update pull_requests set entry_manifests = array(
  select distinct op->>'manifest' from jsonb_array_elements(intent->'operations') op
  where op->>'op' = 'set_entry' order by 1);
create index pull_requests_entry_manifests_idx on pull_requests using gin (entry_manifests) where state = 'merged';

alter table pull_requests alter column intent type bytea using convert_to(intent::text, 'UTF8');
alter table outbox_events alter column payload type bytea using convert_to(payload::text, 'UTF8');
