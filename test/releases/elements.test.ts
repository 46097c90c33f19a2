import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed, type FixtureElement } from '../helpers/repo-fixture.js';

const run = promisify(execFile);
const API = '/api/v2/source_control';

async function git(ctx: TestApp, ...args: string[]): Promise<string> {
  return (await run('git', ['--git-dir', path.join(ctx.config.dataDir, 'repo.git'), ...args])).stdout;
}

interface Row {
  uuid: string;
  type: string;
  name: string;
  latest_release: string | null;
  releases_count: number;
  manifests: Record<string, string | null>;
  pending: { manifest: string; release: string | null; pull_request: { number: number } }[];
  pending_releases: { release_version: string; pull_request: { number: number } }[];
}

t.test('GET /elements on 200 elements and 5 manifests matches what the manifests say', async (t) => {
  const ctx = await buildTestApp(t);
  const { app } = ctx;
  const versions = [[], ['1.0.0'], ['1.0.0', '1.2.0', '1.10.0']] as const;
  const elements: FixtureElement[] = Array.from({ length: 200 }, (_, i) => element(i % 4 === 0 ? 'WORKFLOW' : 'PAGE', versions[i % 3]!));
  const names = Array.from({ length: 5 }, (_, i) => manifestName(`env${i}`));
  // Manifest m sets element i when (i + m) % 3 != 0: to its highest release, or latest without one.
  const expected = new Map<string, Record<string, string | null>>();
  const entries = names.map(() => ({ apps: [] as [string, string][], workflows: [] as [string, string][] }));
  elements.forEach((e, i) => {
    const row: Record<string, string | null> = {};
    names.forEach((name, m) => {
      const release = (i + m) % 3 === 0 ? null : (e.releases.at(-1) ?? 'latest');
      row[name] = release;
      if (release) entries[m]![e.type === 'PAGE' ? 'apps' : 'workflows'].push([e.uuid, release]);
    });
    expected.set(e.uuid, row);
  });
  const broken = manifestName('broken');
  await seed(ctx.git, {
    elements,
    manifests: { ...Object.fromEntries(names.map((n, m) => [n, manifestYaml(n, entries[m])])), [broken]: 'version: 1.0.0\nname: [oops\n' },
  });
  const reader = await ctx.tokenFor('source_control:releases_read');
  const get = (query: string) => app.inject({ method: 'GET', url: `${API}/elements${query}`, headers: ctx.auth(reader) });

  const seen: Row[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`?limit=64${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.statusCode, 200);
    const data = res.json().data;
    t.equal(data.commit_sha, (await git(ctx, 'rev-parse', 'main')).trim());
    t.same(data.manifests, [...names].sort());
    t.match(data.invalid_manifests, [{ name: broken, path: `manifests/${broken}.yaml`, reason: String }]);
    seen.push(...data.elements);
    cursor = data.next_cursor;
    pages++;
  } while (cursor);
  t.equal(pages, 4, '200 elements in pages of 64');
  t.equal(seen.length, 200);
  t.equal(new Set(seen.map((r) => r.uuid)).size, 200, 'no element twice across pages');
  t.same(
    seen.map((r) => r.type),
    [...seen.map((r) => r.type)].sort(),
    'apps first, then workflows',
  );

  let mismatches = 0;
  for (const row of seen) {
    const fixture = elements.find((e) => e.uuid === row.uuid)!;
    const want = {
      name: fixture.name,
      type: fixture.type,
      latest_release: fixture.releases.length ? fixture.releases.at(-1)! : null,
      releases_count: fixture.releases.length,
      manifests: expected.get(row.uuid),
    };
    const got = { name: row.name, type: row.type, latest_release: row.latest_release, releases_count: row.releases_count, manifests: row.manifests };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      mismatches++;
      t.same(got, want, row.uuid);
    }
  }
  t.equal(mismatches, 0, 'every row matches the manifests');

  // The manifests on main, read with native git, say the same for a sample element.
  const sample = seen[17]!;
  for (const name of names) {
    const text = await git(ctx, 'show', `main:manifests/${name}.yaml`);
    const match = new RegExp(`uuid: ${sample.uuid}\\n    release: (\\S+)`).exec(text);
    t.equal(match?.[1] ?? null, sample.manifests[name], `${name} on main`);
  }

  const workflows = await get('?type=WORKFLOW&limit=1000');
  t.equal(workflows.json().data.elements.length, 50);
  t.equal(workflows.json().data.next_cursor, null);
  const byName = await get(`?name=${elements[5]!.name.slice(4).toUpperCase()}`);
  t.same(
    byName.json().data.elements.map((r: Row) => r.uuid),
    [elements[5]!.uuid],
    'name filter, case-insensitive',
  );

  await t.test('open pull requests are overlaid', async (t) => {
    const writer = await ctx.tokenFor('source_control:releases_write');
    const target = elements[2]!; // a PAGE at 1.10.0 in the first manifest
    const publish = await app.inject({
      method: 'POST',
      url: `${API}/publish`,
      headers: ctx.auth(writer),
      payload: { changes: [{ manifest: names[0], element_uuid: target.uuid, element_type: 'PAGE', release: '1.0.0' }] },
    });
    t.equal(publish.statusCode, 200);
    const release = await app.inject({
      method: 'POST',
      url: `${API}/releases/${target.uuid}?elementType=PAGE`,
      headers: ctx.auth(writer),
      payload: { bump: 'major' },
    });
    t.equal(release.statusCode, 200);
    const res = await get(`?name=${target.name}`);
    const row = res.json().data.elements[0] as Row;
    t.match(row, {
      uuid: target.uuid,
      manifests: { [names[0]!]: expected.get(target.uuid)![names[0]!] },
      pending: [{ manifest: names[0], release: '1.0.0', pull_request: { number: publish.json().data.pull_request.number } }],
      pending_releases: [{ release_version: '2.0.0', pull_request: { number: release.json().data.pull_request.number } }],
    });
  });

  await t.test('bad queries are 400 naming the parameter', async (t) => {
    for (const [query, field] of [
      ['?cursor=garbage', 'query.cursor'],
      ['?limit=0', 'querystring.limit'],
      ['?type=APP', 'querystring.type'],
      ['?extra=1', 'querystring.extra'],
    ]) {
      const res = await get(query!);
      t.equal(res.statusCode, 400, query!);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      t.ok(
        res.json().errors.some((e: { field: string }) => e.field === field),
        `${field} in ${JSON.stringify(res.json().errors)}`,
      );
    }
    const anonymous = await app.inject({ method: 'GET', url: `${API}/elements` });
    t.equal(anonymous.statusCode, 401);
  });
});
