// GET /api/v2/source_control/events on a real listening app: events caused through the API arrive
// with `id:` = their outbox seq and the webhook body, Last-Event-ID replays what was missed (never
// twice), a resume past retention is a reset, the types filter, the auth and input answers, the
// per-process limit, a revoked token ending the stream, app.close() with a stream open, and an event
// written through one app showing on another app's stream over the same database.
import http from 'node:http';
import { sql } from 'kysely';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildApp, type App } from '../../src/app.js';
import type { TestApp } from '../helpers/app.js';
import { buildTestApp } from '../helpers/app.js';
import { outboxEvents } from '../helpers/outbox.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';
import { createLogger } from '../../src/logger.js';
import { usingPostgres } from '../helpers/database.js';

const API = '/api/v2/source_control';
const FAST = { MIR_EVENTS_POLL_MS: '20', MIR_EVENTS_HEARTBEAT_SECONDS: '1' };
/** A bound on every wait: long enough never to matter on a slow machine, short enough to fail. */
const WAIT_MS = 20_000;

interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

interface Stream {
  readonly status: number;
  readonly headers: Headers;
  readonly text: () => string;
  readonly events: SseEvent[];
  /** Resolves once the server ended the stream. */
  readonly ended: Promise<void>;
  next(predicate?: (event: SseEvent) => boolean): Promise<SseEvent>;
  cancel(): Promise<void>;
}

async function listen(app: App): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/**
 * A streaming GET and a small SSE parser (what a browser dashboard does with fetch). node:http with
 * a socket of its own rather than fetch: undici keeps pool sockets around after an abort, and an
 * open socket holds app.close() until the server's headers timeout.
 */
async function open(base: string, token: string | null, options: { lastEventId?: string; query?: string } = {}): Promise<Stream> {
  const request = http.get(`${base}${API}/events${options.query ?? ''}`, {
    agent: false,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}) },
  });
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => request.once('response', resolve).once('error', reject));
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let raw = '';
  let seen = 0;
  let done = false;
  const wake = () => waiters.splice(0).forEach((w) => w());
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    raw += chunk;
    for (;;) {
      const end = raw.indexOf('\n\n', seen);
      if (end < 0) break;
      const block = raw.slice(seen, end);
      seen = end + 2;
      const fields = block.split('\n').filter((line) => !line.startsWith(':'));
      const field = (name: string) =>
        fields
          .filter((line) => line.startsWith(`${name}: `))
          .map((line) => line.slice(name.length + 2))
          .join('\n');
      if (fields.some((line) => line.startsWith('data: ')))
        events.push({ id: field('id') || undefined, event: field('event') || 'message', data: field('data') });
    }
    wake();
  });
  const ended = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      wake();
      resolve();
    };
    response.once('end', finish).once('close', finish).once('error', finish);
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
  return {
    status: response.statusCode!,
    headers,
    text: () => raw,
    events,
    ended,
    async next(predicate = () => true) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const index = events.findIndex((event) => predicate(event));
        if (index >= 0) {
          const [event] = events.splice(index, 1);
          return event!;
        }
        if (done) throw new Error(`the stream ended without the event; got ${JSON.stringify(events)}`);
        if (Date.now() > deadline) throw new Error(`no such event within ${WAIT_MS} ms; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    async cancel() {
      request.destroy();
      await ended;
    },
  };
}

/** Resolves with `promise`, or rejects once WAIT_MS passed (a hang fails the test instead of the run). */
function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${WAIT_MS} ms`)), WAIT_MS))),
  ]);
}

async function fixture(ctx: TestApp) {
  const a = element('PAGE', ['1.0.0', '1.1.0', '1.2.0']);
  const prod = manifestName('prod');
  await seed(ctx.git, { elements: [a], manifests: { [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.0.0']] }) } });
  const post = (url: string, payload?: object) => ctx.app.inject({ method: 'POST', url: `${API}${url}`, headers: ctx.auth(), ...(payload ? { payload } : {}) });
  return {
    /** Opens a publish pull request (pull_request.opened); returns its number. */
    async publish(release: string): Promise<number> {
      const answer = await post('/publish', { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release }] });
      if (answer.statusCode !== 200) throw new Error(answer.body);
      return answer.json().data.pull_request.number as number;
    },
    async close(number: number) {
      const answer = await post(`/pull_requests/${number}/close`);
      if (answer.statusCode !== 200) throw new Error(answer.body);
    },
    /** pull_request.merged, manifest.changed. */
    async merge(number: number) {
      const answer = await post(`/pull_requests/${number}/merge`);
      if (answer.statusCode !== 200) throw new Error(answer.body);
    },
  };
}

async function outboxRow(ctx: TestApp, seq: string) {
  const row = (await outboxEvents(ctx.database.handle.db)).find((event) => event.seq === seq);
  if (!row) throw new Error(`no outbox event of seq ${seq}`);
  return row;
}

t.test('events caused through the API arrive with id = seq and the webhook body; Last-Event-ID replays; reset; types', async (t) => {
  const ctx = await buildTestApp(t, { env: FAST });
  const base = await listen(ctx.app);
  const token = await ctx.tokenFor('source_control:releases_read');
  const repo = await fixture(ctx);
  await repo.close(await repo.publish('1.1.0'));

  const stream = await open(base, token);
  t.equal(stream.status, 200);
  t.match(stream.headers.get('content-type'), /^text\/event-stream/);
  t.ok(stream.headers.get('x-request-id'), 'the hooks’ headers go out with the stream');
  const pr = await repo.publish('1.2.0');
  const opened = await stream.next();
  t.equal(opened.event, 'pull_request.opened', 'only what was committed after the stream opened: not the first pull request');
  t.match(stream.text(), /^retry: \d+\n: /, 'the stream starts with retry: and a comment');
  const row = await outboxRow(ctx, opened.id!);
  t.same(
    JSON.parse(opened.data),
    { id: row.id, type: 'pull_request.opened', occurred_at: row.occurred_at.toISOString(), data: row.payload },
    'data is the webhook body of the row whose seq is the id',
  );
  t.match(JSON.parse(opened.data).data, { pull_request: { number: pr } });

  await repo.merge(pr);
  const merged = await stream.next();
  const changed = await stream.next();
  t.same([merged.event, changed.event], ['pull_request.merged', 'manifest.changed']);
  t.ok(Number(merged.id) > Number(opened.id) && Number(changed.id) > Number(merged.id), 'ids grow in commit order');
  await stream.cancel();

  // Missed while away: a pull request opened and merged (three events), then one more live.
  await repo.merge(await repo.publish('1.1.0'));
  const resumed = await open(base, token, { lastEventId: changed.id! });
  const missed = [await resumed.next(), await resumed.next(), await resumed.next()];
  t.same(
    missed.map((e) => e.event),
    ['pull_request.opened', 'pull_request.merged', 'manifest.changed'],
  );
  t.ok(Number(missed[0]!.id) > Number(changed.id), 'replayed from after Last-Event-ID');
  const third = await repo.publish('1.0.0');
  const live = await resumed.next();
  t.equal(live.event, 'pull_request.opened');
  t.match(JSON.parse(live.data).data, { pull_request: { number: third } });
  const ids = [changed.id, ...missed.map((e) => e.id), live.id];
  t.same(
    ids,
    [...ids].sort((x, y) => Number(x) - Number(y)),
    'in order',
  );
  t.equal(new Set(ids).size, ids.length, 'nothing twice');
  t.same(resumed.events, [], 'nothing else');
  await resumed.cancel();

  // Retention removed the event Last-Event-ID names: one reset, then live from now.
  await ctx.database.handle.db
    .deleteFrom('outbox_events')
    .where('seq', '=', opened.id! as never)
    .execute();
  const late = await open(base, token, { lastEventId: opened.id! });
  const reset = await late.next();
  t.equal(reset.event, 'reset');
  t.equal(reset.id, undefined, 'a reset has no id (it is not an event to resume after)');
  t.match(JSON.parse(reset.data), { reason: /no longer retained/ });
  await repo.merge(third);
  t.equal((await late.next()).event, 'pull_request.merged', 'then live, not a replay of what was missed');
  await late.cancel();

  // ?types: only those.
  const filtered = await open(base, token, { query: '?types=manifest.changed,release.created' });
  await repo.merge(await repo.publish('1.1.0'));
  const only = await filtered.next();
  t.equal(only.event, 'manifest.changed');
  t.same(
    filtered.events.map((e) => e.event),
    [],
    'the opened and merged events were left out',
  );
  await filtered.cancel();
});

t.test('401, 403, 400 (Last-Event-ID, types), as problem documents', async (t) => {
  const ctx = await buildTestApp(t, { env: FAST });
  const base = await listen(ctx.app);
  const none = await fetch(`${base}${API}/events`);
  t.equal(none.status, 401);
  t.match(await none.json(), { code: 'unauthorized' });
  const weak = await fetch(`${base}${API}/events`, { headers: { authorization: `Bearer ${await ctx.tokenFor('source_control:read')}` } });
  t.equal(weak.status, 403);
  t.match(await weak.json(), { code: 'forbidden', required_scope: 'source_control:releases_read' });
  const token = await ctx.tokenFor('source_control:releases_read');
  for (const bad of ['abc', '-1', '1.5', '12345678901234567890']) {
    const answer = await fetch(`${base}${API}/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': bad } });
    t.equal(answer.status, 400, bad);
    t.match(await answer.json(), { code: 'validation_failed', errors: [{ field: 'headers.last-event-id', message: /decimal id/ }] }, bad);
  }
  const unknown = await fetch(`${base}${API}/events?types=pull_request.merged,pull_request.reopened`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(unknown.status, 400);
  t.match(await unknown.json(), { code: 'validation_failed', errors: [{ field: 'query.types', message: /unknown event types: pull_request\.reopened \(/ }] });
  t.equal(ctx.app.services.eventStream.size(), 0, 'no stream was opened by a refused request');
});

t.test('past MIR_EVENT_STREAMS_MAX: 503 with Retry-After; the gauge counts the open ones; a revoked token ends its stream', async (t) => {
  const ctx = await buildTestApp(t, { env: { ...FAST, MIR_EVENT_STREAMS_MAX: '1' } });
  const base = await listen(ctx.app);
  const token = await ctx.tokenFor('source_control:releases_read');
  const first = await open(base, token);
  t.equal(first.status, 200);
  const second = await fetch(`${base}${API}/events`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(second.status, 503);
  t.ok(second.headers.get('retry-after'), 'Retry-After');
  t.match(await second.json(), { code: 'event_streams_full', max_streams: 1 });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^mir_event_streams 1$/m);

  const id = (await ctx.app.inject({ method: 'GET', url: '/api/v2/tokens/current', headers: ctx.auth(token) })).json().data.id as string;
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `/api/v2/tokens/${id}`, headers: ctx.auth() })).statusCode, 200);
  await bounded(first.ended, 'the stream of a revoked token ends at the next heartbeat');
  t.match(first.text(), /: keep-alive|the token is revoked/, 'heartbeats are comments');
  await bounded(
    (async () => {
      while (ctx.app.services.eventStream.size() !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    'the slot is given back',
  );
  const again = await open(base, await ctx.tokenFor('source_control:releases_read'));
  t.equal(again.status, 200, 'the place is free again');
  await again.cancel();
});

t.test('app.close() with a stream open resolves, and ends the stream', async (t) => {
  const ctx = await buildTestApp(t, { env: FAST });
  const base = await listen(ctx.app);
  const stream = await open(base, await ctx.tokenFor('source_control:releases_read'));
  t.equal(stream.status, 200);
  await bounded(ctx.app.close(), 'app.close()');
  await bounded(stream.ended, 'the stream ends');
});

t.test('an event written through one app shows on the stream of another app on the same database', async (t) => {
  const ctx = await buildTestApp(t, { env: FAST });
  const other = await buildApp({ config: ctx.config, database: ctx.database.handle, git: ctx.git, logger: createLogger({ level: 'silent' }) });
  const base = await listen(other);
  const stream = await open(base, await ctx.tokenFor('source_control:releases_read'));
  const repo = await fixture(ctx);
  const number = await repo.publish('1.1.0');
  const event = await stream.next();
  t.equal(event.event, 'pull_request.opened');
  t.match(JSON.parse(event.data).data, { pull_request: { number } });
  await stream.cancel();
  // Before the database goes (the helper's teardown).
  await bounded(other.close(), 'the second app closes');
});

t.test(
  'PostgreSQL: a seq committed after a greater one is not lost (the cursor waits at the gap)',
  { skip: !usingPostgres && 'PGlite is one session: no two transactions at once' },
  async (t) => {
    const ctx = await buildTestApp(t, { env: { ...FAST, MIR_EVENTS_GAP_SECONDS: '600' } });
    const base = await listen(ctx.app);
    const stream = await open(base, await ctx.tokenFor('source_control:releases_read'));
    const { db } = ctx.database.handle;
    const publish = (trx: typeof db, marker: string) => ctx.app.services.events.publish(trx, [{ type: 'drift.resolved', data: { marker } }]);
    let commitFirst!: () => void;
    let inserted!: () => void;
    const insertedFirst = new Promise<void>((resolve) => (inserted = resolve));
    const first = db.transaction().execute(async (trx) => {
      await publish(trx, 'first');
      inserted();
      await new Promise<void>((resolve) => (commitFirst = resolve));
    });
    await insertedFirst;
    await publish(db, 'second');
    // Ticks of the poller go by with "second" visible and "first" not (a pause, not an assertion).
    await new Promise((resolve) => setTimeout(resolve, 300));
    commitFirst();
    await first;
    const got = [await stream.next(), await stream.next()];
    t.same(
      got.map((e) => JSON.parse(e.data).data.marker),
      ['first', 'second'],
      'in seq order, the late commit included',
    );
    t.ok(Number(got[0]!.id) < Number(got[1]!.id));
    await stream.cancel();
  },
);

t.test(
  'PostgreSQL: the 200 goes out once the stream has its place in the outbox: an event committed right after it is on the stream',
  { skip: !usingPostgres && 'PGlite is one session: a lock held by the test would hold the test too' },
  async (t) => {
    const ctx = await buildTestApp(t, { env: FAST });
    const base = await listen(ctx.app);
    const token = await ctx.tokenFor('source_control:releases_read');
    const { db } = ctx.database.handle;
    // The outbox locked: the stream cannot read where it stands (its first read waits on the lock).
    let release!: () => void;
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.transaction().execute(async (trx) => {
      await sql`lock table outbox_events in access exclusive mode`.execute(trx);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await lockTaken;
    let answered = false;
    const opening = open(base, token).then((stream) => {
      answered = true;
      return stream;
    });
    // Not a timing assertion: while the lock is held the answer can never come; 500 ms is how long we look.
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.notOk(answered, 'no 200 while the stream does not know where it stands');
    release();
    await holder;
    const stream = await opening;
    t.equal(stream.status, 200);
    await ctx.app.services.events.publish(db, [{ type: 'drift.resolved', data: { marker: 'right after the 200' } }]);
    t.equal(JSON.parse((await stream.next()).data).data.marker, 'right after the 200', 'the event committed after the 200');
    await stream.cancel();
  },
);
