-- What each artifact zip holds, keyed by its git blob id (content-addressed, so a row never goes
-- stale): its sha256 and size, and its .release.json when it has one. Listing releases or
-- answering an instance then never opens a zip twice.
create table artifacts (
  blob_id     text primary key check (blob_id ~ '^[0-9a-f]{40}$'),
  sha256      text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size        bigint not null check (size >= 0),
  -- The artifact's .release.json; null for zips made by other tools (Retool writes none).
  metadata    jsonb,
  -- Why metadata is null although the zip has a .release.json that does not parse.
  metadata_error text,
  created_at  timestamptz not null default now()
);
