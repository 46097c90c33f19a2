// A manifest of 14,000 entries written whole (issue 14): the write and its merge must not hold the
// event loop, so a `/healthz` asked meanwhile answers at once. Before the fix both held it for the
// whole request (~60–100 s here). Timings belong to bench/writes-bench.ts; this test only catches a
// blocked loop, with a bound generous enough for a loaded CI machine running four files at once.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { artifactPath, PROTECTED_APPS_PATH, PROTECTED_WORKFLOWS_PATH } from '../../src/formats/layout.js';
import { buildTestApp } from '../helpers/app.js';
import { fastImport } from '../helpers/fast-import.js';
import { manifestName, manifestYaml } from '../helpers/repo-fixture.js';
import { craftZip, stored } from '../formats/zip-craft.js';

const API = '/api/v2/source_control';
const COUNT = 14_000;

t.test(`a whole-manifest PUT of ${COUNT} entries and its merge keep the event loop free`, async (t) => {
  const ctx = await buildTestApp(t);
  const uuids = Array.from({ length: COUNT }, () => randomUUID()).sort();
  const prod = manifestName('prod');
  const files: Record<string, Uint8Array | string> = {
    [PROTECTED_APPS_PATH]: `apps:\n${uuids.map((uuid, i) => `  - uuid: ${uuid}\n    name: app-${i}\n`).join('')}`,
    [PROTECTED_WORKFLOWS_PATH]: 'workflows: []\n',
    // Empty at first: the PUT adds every entry, 14,000 operations in one pull request.
    [`manifests/${prod}.yaml`]: manifestYaml(prod),
  };
  for (const uuid of uuids) files[artifactPath('PAGE', uuid, '1.1.0')] = craftZip([stored('main.json', `{"uuid": "${uuid}"}\n`)]);
  await fastImport(path.join(ctx.config.dataDir, 'repo.git'), files);
  await ctx.git.fetchAllBranches();

  await ctx.app.ready();

  /**
   * Runs `work` while asking `/healthz` every 25 ms; the longest wait for an answer, counted from
   * when the question was due (a blocked loop delays the asking as much as the answer).
   */
  const probed = async <T>(work: () => Promise<T>): Promise<{ result: T; longestWait: number }> => {
    let done = false;
    let longestWait = 0;
    const probe = (async () => {
      let due = performance.now();
      while (!done) {
        const health = await ctx.app.inject({ method: 'GET', url: '/healthz' });
        longestWait = Math.max(longestWait, performance.now() - due);
        if (health.statusCode !== 200) throw new Error(`/healthz answered ${health.statusCode}`);
        due = performance.now() + 25;
        await sleep(25);
      }
    })();
    try {
      return { result: await work(), longestWait };
    } finally {
      done = true;
      await probe;
    }
  };
  const BOUND_MS = 3_000;

  const manifest = { apps: uuids.map((uuid) => ({ uuid, release: '1.1.0' })), workflows: [] };
  const put = await probed(() => ctx.app.inject({ method: 'PUT', url: `${API}/manifests/${prod}`, headers: ctx.auth(), payload: { manifest } }));
  t.equal(put.result.statusCode, 200, put.result.statusCode === 200 ? '' : put.result.body);
  t.comment(`PUT: longest /healthz wait ${Math.round(put.longestWait)} ms`);
  t.ok(put.longestWait < BOUND_MS, `/healthz answered within ${BOUND_MS} ms while the PUT ran (${Math.round(put.longestWait)} ms)`);

  const number = put.result.json().data.pull_request.number as number;
  const pullRequest = await ctx.app.services.pullRequests.get(number);
  t.equal(pullRequest.manifests[0]?.added.length, COUNT, 'the pull request lists every change');
  t.match(pullRequest.body, /\n…and 13800 more changes\.$/, 'its body names the first 200 (forges cap descriptions)');

  const merged = await probed(() => ctx.app.inject({ method: 'POST', url: `${API}/pull_requests/${number}/merge`, headers: ctx.auth() }));
  t.equal(merged.result.statusCode, 200, merged.result.statusCode === 200 ? '' : merged.result.body);
  t.comment(`merge: longest /healthz wait ${Math.round(merged.longestWait)} ms`);
  t.ok(merged.longestWait < BOUND_MS, `/healthz answered within ${BOUND_MS} ms while the merge ran (${Math.round(merged.longestWait)} ms)`);
});
