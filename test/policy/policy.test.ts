// Policy from .mir/policy.yaml: order and soak, freeze windows across a DST change, approvals,
// break-glass; time injected through the app's clock, never slept.
import t from 'tap';
import { hasCode } from '../../src/errors.js';
import { parsePolicy, windowAt } from '../../src/policy/policy-file.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { commitFiles, element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

const API = '/api/v2/source_control';
const HOUR = 3_600_000;

function client(ctx: TestApp, token: string) {
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    ctx.app.inject({
      method,
      url: `${API}${url}`,
      headers: { ...ctx.auth(token), ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  return {
    get: (url: string) => call('GET', url),
    post: (url: string, payload?: unknown, headers?: Record<string, string>) => call('POST', url, payload, headers),
    delete: (url: string) => call('DELETE', url),
  };
}

t.test('freeze windows keep their wall-clock times across a DST change (America/New_York, 8 March 2026)', async (t) => {
  const policy = parsePolicy(
    'version: 1\nmanifests:\n  prod:\n    freeze:\n      - { name: weekend, start: "0 18 * * 5", end: "0 6 * * 1", timezone: America/New_York }\n',
  );
  const windows = policy.manifests.get('prod')!.freeze;
  // Friday 6 March is EST (UTC-5): the window opens at 23:00Z.
  t.equal(windowAt(windows, new Date('2026-03-06T22:59:00Z')), null, 'Friday 17:59 EST: open for merges');
  t.equal(windowAt(windows, new Date('2026-03-06T23:01:00Z'))?.window.name, 'weekend', 'Friday 18:01 EST: frozen');
  // Monday 9 March is EDT (UTC-4): the window closes at 06:00 EDT = 10:00Z, not 11:00Z.
  const monday = windowAt(windows, new Date('2026-03-09T09:30:00Z'));
  t.equal(monday?.until?.toISOString(), '2026-03-09T10:00:00.000Z', 'Monday 05:30 EDT: frozen until 06:00 EDT');
  t.equal(windowAt(windows, new Date('2026-03-09T10:30:00Z')), null, 'Monday 06:30 EDT: open (it would still be 05:30 in EST)');
});

t.test('a policy file that does not validate is named with its line', async (t) => {
  const cases: [string, number, RegExp][] = [
    ['version: 1\nmanifests:\n  prod:\n    order: { after: uat, soak: a day }\n', 4, /soak must be a duration/],
    [
      'version: 1\nmanifests:\n  prod:\n    freeze:\n      - { name: w, start: "0 99 * * *", end: "0 6 * * 1", timezone: UTC }\n',
      5,
      /start is not a cron pattern/,
    ],
    [
      'version: 1\nmanifests:\n  prod:\n    freeze:\n      - { name: w, start: "0 1 * * *", end: "0 6 * * 1", timezone: Mars/Olympus }\n',
      5,
      /not an IANA time zone/,
    ],
    ['version: 1\nmanifests:\n  prod:\n    approvals: { required: 0 }\n', 4, /from 1 to 20/],
    ['version: 1\nmanifests:\n  prod:\n    colour: blue\n', 4, /unknown key colour/],
    ['version: 2\n', 1, /version must be 1/],
  ];
  for (const [text, line, reason] of cases) {
    try {
      parsePolicy(text);
      t.fail(`accepted ${text}`);
    } catch (error) {
      t.ok(hasCode(error, 'policy_invalid'), String(error));
      if (hasCode(error, 'policy_invalid')) t.match(error.details, { path: '.mir/policy.yaml', line, reason }, text);
    }
  }
});

t.test('order, soak and approvals through pull requests; break-glass through a freeze', async (t) => {
  let now = new Date();
  const ctx = await buildTestApp(t, { clock: () => now });
  const a = element('PAGE', ['1.0.0', '1.1.0', '1.2.0']);
  const [uat, prod, edge] = [manifestName('uat'), manifestName('prod'), manifestName('edge')];
  await seed(ctx.git, {
    elements: [a],
    manifests: {
      [uat]: manifestYaml(uat, { apps: [[a.uuid, '1.0.0']] }),
      [prod]: manifestYaml(prod, { apps: [[a.uuid, '1.0.0']] }),
      [edge]: manifestYaml(edge, { apps: [[a.uuid, '1.0.0']] }),
    },
  });
  await commitFiles(ctx.git, {
    '.mir/policy.yaml': [
      'version: 1',
      'manifests:',
      `  ${prod}:`,
      `    order: { after: ${uat}, soak: 24h }`,
      '    approvals: { required: 2 }',
      `  ${edge}:`,
      '    freeze:',
      '      - { name: weekend, start: "0 18 * * 5", end: "0 6 * * 1", timezone: America/New_York }',
      '',
    ].join('\n'),
  });
  const admin = client(ctx, ctx.adminToken);
  const alice = client(ctx, await ctx.tokenFor('source_control:releases_write'));
  const bob = client(ctx, await ctx.tokenFor('source_control:releases_write', 'source_control:read'));

  // A version not in uat yet is refused for prod: reported at opening, refused at merge.
  const skip = await admin.post('/publish', { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' }] });
  t.equal(skip.statusCode, 200, skip.body);
  t.match(skip.json().data.policy, [
    { rule: 'order', status: 'blocked' },
    { rule: 'approvals', status: 'blocked' },
  ]);
  const pr = await admin.get(`/pull_requests/${skip.json().data.pull_request.number}`);
  t.match(pr.json().data.pull_request.body, /order: blocked — PAGE .* 1\.1\.0 is not in/);
  const skipped = await admin.post(`/pull_requests/${skip.json().data.pull_request.number}/merge`);
  t.equal(skipped.statusCode, 409);
  t.match(skipped.json(), { code: 'policy_blocked', verdicts: [{ rule: 'order' }, { rule: 'approvals' }] });
  await admin.post(`/pull_requests/${skip.json().data.pull_request.number}/close`);

  // Into uat (no policy there), then promoted: in uat, but not for 24 hours yet.
  const toUat = await admin.post('/publish', { changes: [{ manifest: uat, element_uuid: a.uuid, element_type: 'PAGE', release: '1.1.0' }] });
  t.equal((await admin.post(`/pull_requests/${toUat.json().data.pull_request.number}/merge`)).statusCode, 200);
  const dry = await admin.post('/promote?dry_run=true', { from: uat, to: prod });
  t.match(dry.json().data.policy, [
    { rule: 'order', status: 'pass' },
    { rule: 'soak', status: 'blocked', until: String },
  ]);
  const promoted = await admin.post('/promote', { from: uat, to: prod });
  t.equal(promoted.statusCode, 200, promoted.body);
  const number = promoted.json().data.pull_request.number;
  now = new Date(now.getTime() + 2 * HOUR);
  const early = await alice.post(`/pull_requests/${number}/merge`);
  t.equal(early.statusCode, 409);
  t.match(early.json().verdicts, [{ rule: 'soak' }, { rule: 'approvals' }]);

  // 25 hours later the soak is done; approvals remain: the author cannot approve, N−1 blocks, N passes.
  now = new Date(now.getTime() + 23 * HOUR);
  t.match((await admin.post(`/pull_requests/${number}/approvals`)).json(), { code: 'approval_refused' });
  t.equal((await alice.post(`/pull_requests/${number}/approvals`)).statusCode, 200);
  const one = await alice.post(`/pull_requests/${number}/merge`);
  t.equal(one.statusCode, 409);
  t.same(
    one.json().verdicts.map((v: { rule: string }) => v.rule),
    ['approvals'],
  );
  t.match(one.json().verdicts[0].reason, /1 of 2/);
  const two = await bob.post(`/pull_requests/${number}/approvals`);
  t.equal(two.json().data.approvals.length, 2);
  t.match((await alice.get(`/pull_requests/${number}/verdicts`)).json().data.policy, [
    { rule: 'order', status: 'pass' },
    { rule: 'soak', status: 'pass' },
    { rule: 'approvals', status: 'pass' },
  ]);
  t.equal((await bob.delete(`/pull_requests/${number}/approvals`)).json().data.approvals.length, 1, 'withdrawn');
  t.equal((await alice.post(`/pull_requests/${number}/merge`)).statusCode, 409, 'a withdrawal blocks again');
  await bob.post(`/pull_requests/${number}/approvals`);
  const merged = await alice.post(`/pull_requests/${number}/merge`);
  t.equal(merged.statusCode, 200, merged.body);
  t.match(merged.json().data.policy, [
    { rule: 'order', status: 'pass' },
    { rule: 'soak', status: 'pass' },
    { rule: 'approvals', status: 'pass' },
  ]);

  await t.test('a freeze window refuses merges into edge; an admin breaks glass with a reason, audited', async (t) => {
    now = new Date('2026-03-09T09:30:00Z');
    const change = await admin.post('/publish', { changes: [{ manifest: edge, element_uuid: a.uuid, element_type: 'PAGE', release: '1.2.0' }] });
    t.match(change.json().data.policy, [{ rule: 'freeze', status: 'blocked', until: '2026-03-09T10:00:00.000Z' }]);
    const n = change.json().data.pull_request.number;
    const frozen = await alice.post(`/pull_requests/${n}/merge`);
    t.equal(frozen.statusCode, 409);
    t.match(frozen.json().message, /frozen by "weekend"/);
    t.equal((await alice.post(`/pull_requests/${n}/merge`, undefined, { 'mir-override-reason': 'outage' })).statusCode, 403, 'break-glass is for admins');
    const glass = await admin.post(`/pull_requests/${n}/merge`, undefined, { 'mir-override-reason': 'payments outage, fix must ship' });
    t.equal(glass.statusCode, 200, glass.body);
    t.match(glass.json().data.policy, [{ rule: 'freeze', status: 'overridden' }]);
    t.match((await ctx.app.services.audit.list({ action: 'policy.override' }))[0], {
      target: `manifest:${edge}`,
      details: { rule: 'freeze', reason: 'payments outage, fix must ship', pull_request: n },
    });
  });

  await t.test('a policy file that does not validate refuses gated writes with its line', async (t) => {
    await commitFiles(ctx.git, { '.mir/policy.yaml': `version: 1\nmanifests:\n  ${prod}:\n    order: { after: ${uat}, soak: soon }\n` });
    const refused = await admin.post('/publish?dry_run=true', { changes: [{ manifest: prod, element_uuid: a.uuid, element_type: 'PAGE', release: '1.0.0' }] });
    t.equal(refused.statusCode, 422);
    t.match(refused.json(), { code: 'policy_invalid', path: '.mir/policy.yaml', line: 4 });
  });
});
