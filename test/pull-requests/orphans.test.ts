// The sweeper puts right what a crash leaves between the database and the repository: an opening
// row (and its pushed branch), a branch no pull request names, an open pull request whose branch is
// gone, an opening hotfix (and its pushed branch). And opening a pull request that fails half-way
// leaves none of that in the first place.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import t, { type Test } from 'tap';
import { createAuditService, type AuditService } from '../../src/audit/audit.service.js';
import type { Tables } from '../../src/db/database.js';
import { insertOpening } from '../../src/pull-requests/pull-requests.repository.js';
import { buildTestApp, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { element, manifestName, manifestYaml, PEOPLE, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const GRACE_SECONDS = 2;
const env = { MIR_ORPHAN_GRACE_SECONDS: String(GRACE_SECONDS) };
const enc = (s: string) => new TextEncoder().encode(s);

/** Past the grace period of rows (created_at) and branches (their head's author time, in whole seconds). */
const pastGrace = () => new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 300));

async function app(t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  return buildTestApp(t, { ...options, env: { ...env, ...options.env } });
}

/** A commit of its own on top of main, pushed to `branch`: what a process pushes before it dies. */
async function pushed(ctx: TestApp, branch: string): Promise<{ base: string; commit: string }> {
  const base = await ctx.git.headCommit();
  const commit = await ctx.git.commit({
    parent: base,
    changes: [{ path: `notes/${randomUUID()}.txt`, bytes: enc('x') }],
    message: 'left behind',
    author: PEOPLE,
  });
  await ctx.git.pushBranch({ branch, commit, expectedOld: null });
  return { base, commit };
}

function auditEvents(ctx: TestApp, filter: { action?: string; target?: string }) {
  let query = ctx.database.handle.db.selectFrom('audit_events').selectAll();
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.target) query = query.where('target', '=', filter.target);
  return query.execute();
}

t.test('an opening row left by a crash: kept within the grace period, then removed with its branch', async (t) => {
  const ctx = await app(t);
  const branch = `mir/manifest/${manifestName('crash')}/${randomUUID().slice(0, 8)}`;
  const { base, commit } = await pushed(ctx, branch);
  const opening = await insertOpening(ctx.database.handle.db, {
    kind: 'manifest',
    provider: 'builtin',
    title: 'Set an entry',
    body: '',
    source_branch: branch,
    target_branch: 'main',
    base_commit: base,
    head_commit: commit,
    intent: { version: 1, operations: [] },
    author: PEOPLE.name,
    author_email: PEOPLE.email,
  });
  const row = () => ctx.database.handle.db.selectFrom('pull_requests').select('state').where('number', '=', opening.number).executeTakeFirst();

  const early = await ctx.app.services.sweeper.sweep();
  t.same(early, { abandoned: [], orphanBranches: [], restoredBranches: [], abandonedHotfixes: [] }, 'a proposal this young may still be on its way');
  t.match(await row(), { state: 'opening' });
  t.equal(await ctx.git.resolveRef(branch), commit);

  await pastGrace();
  const report = await ctx.app.services.sweeper.sweep();
  t.same(report.abandoned, [opening.number], 'reported as abandoned');
  t.same(report.orphanBranches, [], 'its branch went with the row, not as an orphan');
  t.equal(await row(), undefined, 'the row is gone');
  t.equal(await ctx.git.resolveRef(branch), null, 'the branch is gone');
  t.match(await auditEvents(ctx, { action: 'pull_request.abandoned' }), [
    { actor: 'mir', target: `pull_request:${opening.number}`, details: { branch, head_commit: commit } },
  ]);
  t.same(
    await ctx.app.services.sweeper.sweep(),
    { abandoned: [], orphanBranches: [], restoredBranches: [], abandonedHotfixes: [] },
    'a second sweep finds nothing',
  );
});

t.test('a branch under the prefix with no row is removed after the grace period; others are never touched', async (t) => {
  const ctx = await app(t);
  const orphan = `mir/manifest/x/${randomUUID().slice(0, 8)}`;
  const own = `people/own-${randomUUID().slice(0, 8)}`;
  const { commit } = await pushed(ctx, orphan);
  const { commit: ownCommit } = await pushed(ctx, own);

  t.same((await ctx.app.services.sweeper.sweep()).orphanBranches, [], 'young: left alone');
  t.equal(await ctx.git.resolveRef(orphan), commit);

  await pastGrace();
  const report = await ctx.app.services.sweeper.sweep();
  t.same(report.orphanBranches, [orphan]);
  t.equal(await ctx.git.resolveRef(orphan), null, 'the orphan is gone');
  t.equal(await ctx.git.resolveRef(own), ownCommit, 'a branch outside the prefix stays, however old');
  t.same(
    (await ctx.git.listBranches({})).map((b) => b.name),
    ['main', own],
  );
  t.match(await auditEvents(ctx, { action: 'branch.orphan_removed' }), [{ actor: 'mir', target: `branch:${orphan}`, details: { sha: commit } }]);
});

t.test('an open pull request whose branch was deleted gets it back at its head, and then merges', async (t) => {
  const ctx = await app(t);
  const e = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  await seed(ctx.git, { elements: [e], manifests: { [name]: manifestYaml(name) } });
  const put = await ctx.app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${e.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release: '1.0.0' },
  });
  t.equal(put.statusCode, 200);
  const {
    branch_name: branch,
    commit_sha: head,
    pull_request: pr,
  } = put.json().data as { branch_name: string; commit_sha: string; pull_request: { number: number } };
  await ctx.git.deleteBranch({ branch });
  t.equal(await ctx.git.resolveRef(branch), null);

  const report = await ctx.app.services.sweeper.sweep();
  t.same(report, { abandoned: [], orphanBranches: [], restoredBranches: [branch], abandonedHotfixes: [] });
  t.equal(await ctx.git.resolveRef(branch), head, 'pushed again at its head commit');
  t.match(await auditEvents(ctx, { action: 'branch.restored' }), [{ target: `pull_request:${pr.number}`, details: { branch, sha: head } }]);

  const merged = await ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${pr.number}/merge`, headers: ctx.auth() });
  t.equal(merged.statusCode, 200, merged.body);
  t.match(merged.json().data, { pull_request: { state: 'merged' } });
  const manifest = new TextDecoder().decode((await ctx.git.readFile({ ref: await ctx.git.headCommit(), path: `manifests/${name}.yaml` }))!);
  t.match(manifest, `- uuid: ${e.uuid}\n    release: 1.0.0\n`, 'the entry is on main');
});

t.test('an opening hotfix left by a crash: removed with the branch it pushed once past the grace period', async (t) => {
  const ctx = await app(t);
  const db = ctx.database.handle.db;
  /** An opening row as a process that died after its push leaves it, created `ageMs` ago. */
  const openingHotfix = async (ageMs: number, branchAt: 'its commit' | 'another commit') => {
    const uuid = randomUUID();
    const branch = `hotfix/${uuid}/1.0`;
    const { base, commit } = await pushed(ctx, branch);
    const row = await db
      .insertInto('hotfixes')
      .values({
        element_type: 'PAGE',
        element_uuid: uuid,
        line: '1.0',
        base_version: '1.0.0',
        branch,
        base_commit: branchAt === 'its commit' ? commit : base,
        state: 'opening',
        author: PEOPLE.name,
        author_email: PEOPLE.email,
        created_at: new Date(Date.now() - ageMs),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { id: row.id, branch, tip: commit, baseCommit: row.base_commit };
  };
  const stale = await openingHotfix(60_000, 'its commit');
  const moved = await openingHotfix(60_000, 'another commit');
  const fresh = await openingHotfix(0, 'its commit');
  const state = (id: string) => db.selectFrom('hotfixes').select('state').where('id', '=', id).executeTakeFirst();

  const report = await ctx.app.services.sweeper.sweep();
  t.same([...report.abandonedHotfixes].sort(), [stale.id, moved.id].sort(), 'both stale rows are reported');
  t.same(report.abandoned, [], 'no pull request was opening');
  t.equal(await state(stale.id), undefined, 'the stale row is gone');
  t.equal(await ctx.git.resolveRef(stale.branch), null, 'and the branch it pushed');
  t.equal(await state(moved.id), undefined, 'a stale row whose branch moved is gone too');
  t.equal(await ctx.git.resolveRef(moved.branch), moved.tip, "but a branch not at its commit is someone else's: kept");
  t.match(await state(fresh.id), { state: 'opening' }, 'a create this young may still be on its way');
  t.equal(await ctx.git.resolveRef(fresh.branch), fresh.tip);
  t.match(await auditEvents(ctx, { target: `hotfix:${stale.id}` }), [
    {
      actor: 'mir',
      action: 'hotfix.abandoned',
      details: { branch: stale.branch, base_commit: stale.baseCommit, reason: 'its process stopped while opening it' },
    },
  ]);
  t.equal((await auditEvents(ctx, { action: 'hotfix.abandoned' })).length, 2, 'one event per removed row');
  t.same((await ctx.app.services.sweeper.sweep()).abandonedHotfixes, [], 'a second sweep finds nothing');
});

t.test('a failure between the steps of opening a pull request leaves no row, no branch and no audit event', async (t) => {
  // The real audit service, except that recording the proposal itself fails: after the push, inside
  // the transaction that turns the opening row into the pull request. The app's database exists only
  // once the app is built; until then every record comes with the caller's transaction.
  let appDb: Kysely<Tables> | undefined;
  const failing: AuditService = {
    async record(actor, event, db) {
      if (event.action === 'manifest.entry.set') throw new Error('the audit trail is down');
      return createAuditService({ db: (db ?? appDb)! }).record(actor, event);
    },
    list: (filter) => createAuditService({ db: appDb! }).list(filter),
  };
  const ctx = await app(t, { services: { audit: failing } });
  appDb = ctx.database.handle.db;
  const e = element('PAGE', ['1.0.0']);
  const name = manifestName('prod');
  const seeded = await seed(ctx.git, { elements: [e], manifests: { [name]: manifestYaml(name) } });

  const put = await ctx.app.inject({
    method: 'PUT',
    url: `${API}/manifests/${name}/${e.uuid}?elementType=PAGE`,
    headers: ctx.auth(),
    payload: { release: '1.0.0' },
  });
  t.equal(put.statusCode, 500);
  t.match(put.headers['content-type'], /^application\/problem\+json/);
  t.match(put.json(), { status: 500, code: 'internal_error' });
  t.notMatch(put.body, /audit trail is down/, 'the cause stays in the log');

  t.same(await ctx.database.handle.db.selectFrom('pull_requests').selectAll().execute(), [], 'no pull request row, opening or open');
  t.same(await ctx.git.listBranches({ prefix: 'mir/' }), [], 'the pushed branch was taken back');
  t.same(await auditEvents(ctx, { target: `manifest:${name}` }), [], 'no audit event for it');
  t.equal(await ctx.git.headCommit(), seeded.commit, 'main did not move');
});
