// An instance whose manifest names more artifacts than one statement can carry (issue 14):
// PostgreSQL takes 65,535 bind parameters a statement, 13,107 rows of the artifacts table's first
// five columns, and 14,000 ids overflow an `in` list of one statement too. The table is written
// and read in batches.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { artifactPath } from '../../src/formats/layout.js';
import { buildTestApp } from '../helpers/app.js';
import { fastImport } from '../helpers/fast-import.js';
import { manifestName, manifestYaml } from '../helpers/repo-fixture.js';
import { craftZip, stored } from '../formats/zip-craft.js';

const API = '/api/v2/source_control';
const COUNT = 14_000;

t.test(`GET /instances/{name}/releases on a manifest of ${COUNT} artifacts answers 200`, async (t) => {
  const ctx = await buildTestApp(t);
  const uuids = Array.from({ length: COUNT }, () => randomUUID());
  const prod = manifestName('prod');
  // Tiny distinct zips (one stored file naming its element), as Retool writes them: no .release.json.
  const files: Record<string, Uint8Array | string> = { [`manifests/${prod}.yaml`]: manifestYaml(prod, { apps: uuids.map((uuid) => [uuid, '1.0.0']) }) };
  for (const uuid of uuids) files[artifactPath('PAGE', uuid, '1.0.0')] = craftZip([stored('main.json', `{"uuid": "${uuid}"}\n`)]);
  await fastImport(path.join(ctx.config.dataDir, 'repo.git'), files);
  await ctx.git.fetchAllBranches();
  const created = await ctx.app.inject({ method: 'POST', url: `${API}/instances`, headers: ctx.auth(), payload: { name: 'eu-1', manifest: prod } });
  t.equal(created.statusCode, 201, created.body);

  const res = await ctx.app.inject({ method: 'GET', url: `${API}/instances/eu-1/releases`, headers: ctx.auth() });
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '' : res.body);
  const elements = res.json().data.elements as { uuid: string; artifact: { path: string; sha256: string } | null }[];
  t.equal(elements.length, COUNT);
  t.equal(elements.filter((e) => e.artifact?.sha256.length === 64).length, COUNT, 'every entry has its artifact');
  const rows = await ctx.database.handle.db
    .selectFrom('artifacts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  t.equal(Number(rows.n), COUNT, 'one row per artifact in the artifacts table');
});
