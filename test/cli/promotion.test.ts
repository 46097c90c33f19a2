// `mir compare`, `promote`, `rollback`, `holds` and `pr approve|unapprove|verdicts` run as real
// processes against a real mir on 127.0.0.1, with a policy on prod (order after uat, one approval):
// the table and the JSON, a dry run that shows changes and verdicts, a promotion's pull request, a
// rollback's hold refusing the held version (and an admin's override letting it through), a lift.
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';
import { manifestYaml } from '../helpers/repo-fixture.js';

t.test('mir compare, promote, rollback, holds: uat → prod with a policy and a hold', async (t) => {
  const { app, flow, prod, uat, adminToken, mir, ok, json, tokenNeverPrinted } = await cliFixture(t, {
    appReleases: ['1.0.0', '1.1.0', '1.2.0'],
    prodRelease: '1.0.0',
    files: ({ app, flow, prod, uat }) => ({
      [`manifests/${uat}.yaml`]: manifestYaml(uat, { apps: [[app.uuid, '1.2.0']], workflows: [[flow.uuid, '0.1.0']] }),
      '.mir/policy.yaml': `version: 1\nmanifests:\n  ${prod}:\n    order: { after: ${uat} }\n    approvals: { required: 1 }\n`,
    }),
  });
  const admin = { MIR_TOKEN: adminToken };

  await t.test('compare: a table, and the API answer with --json', async (t) => {
    const [header, ...rows] = (await ok(t, ['compare', uat, prod])).split('\n');
    t.match(header, new RegExp(`^ELEMENT\\s+TYPE\\s+${uat.toUpperCase()}\\s+${prod.toUpperCase()}\\s+BEHIND BY$`));
    t.match(rows[0], new RegExp(`^${app.name}\\s+app\\s+1\\.2\\.0\\s+1\\.0\\.0\\s+2$`), 'prod lacks 1.1.0 and 1.2.0');
    t.match(rows[1], new RegExp(`^${flow.name}\\s+workflow\\s+0\\.1\\.0\\s+—\\s+only in ${uat}$`), 'one side only');
    t.match(rows[2], new RegExp(`^compared ${uat} with ${prod} at [0-9a-f]{12};`));
    const answer = await json(t, ['compare', uat, prod]);
    t.match(answer, {
      from: { name: uat, manifest: uat },
      to: { name: prod, manifest: prod },
      differences: [{ element_uuid: app.uuid, from_release: '1.2.0', to_release: '1.0.0', behind: 2, between: ['1.1.0', '1.2.0'] }],
      only_in_from: [{ element_uuid: flow.uuid, release: '0.1.0' }],
      only_in_to: [],
    });
    t.equal(answer.differences[0].releases[1].release_description, `release 1.2.0 of ${app.name}`);
  });

  let promotion = 0;
  await t.test('promote: a dry run shows the exact change and the verdicts; then the pull request', async (t) => {
    const dry = await ok(t, ['promote', uat, prod, '--element', flow.name, '--dry-run']);
    t.match(dry, /^dry run\s+nothing was pushed or recorded$/m);
    t.match(dry, new RegExp(`^  set\\s+${prod} WORKFLOW ${flow.uuid}: — → 0\\.1\\.0$`, 'm'), 'the one operation, from nothing to 0.1.0');
    t.match(dry, new RegExp(`^policy ${prod} order\\s+pass: `, 'm'));
    t.match(dry, new RegExp(`^policy ${prod} approvals\\s+blocked: 0 of 1 approvals`, 'm'));
    t.notMatch(dry, new RegExp(app.uuid), '--element leaves the app out');

    const pushed = await mir(['promote', uat, prod, '--element', flow.uuid, '--message', 'Promote the workflow']);
    t.equal(pushed.code, 0, pushed.stderr);
    t.match(pushed.stderr, new RegExp(`^mir: pushing the promotion of one element from ${uat} to ${prod}…$`, 'm'));
    const pr = /^pull request\s+#(\d+) open "(.+)"/m.exec(pushed.stdout);
    t.ok(pr, pushed.stdout);
    promotion = Number(pr?.[1]);
  });

  await t.test('pr verdicts, approve, unapprove; a blocked merge, then an admin override', async (t) => {
    t.match(
      await ok(t, ['pr', 'verdicts', String(promotion)]),
      new RegExp(`^policy\\s+${prod}\\s+approvals\\s+blocked\\s+—\\s+0 of 1 approvals by someone other than the author$`, 'm'),
    );
    const own = await mir(['pr', 'approve', String(promotion)]);
    t.equal(own.code, 3, 'the author cannot approve');
    t.match(own.stderr, /\(approval_refused, HTTP 409\)$/m);
    t.match(await json(t, ['pr', 'approve', String(promotion)], admin), { pull_request: promotion, approvals: [{ approver: 'test-admin' }] });
    t.match(await ok(t, ['pr', 'unapprove', String(promotion)], admin), /^approvals\s+0$/m);
    const blocked = await mir(['pr', 'merge', String(promotion)]);
    t.equal(blocked.code, 3, 'the withdrawal blocks the merge again');
    t.match(blocked.stderr, new RegExp(`^mir: Pull request #${promotion} is blocked by policy: ${prod} approvals: .+ \\(policy_blocked, HTTP 409\\)$`, 'm'));
    const merged = await mir(['pr', 'merge', String(promotion), '--override-reason', 'release train'], admin);
    t.equal(merged.code, 0, merged.stderr);
    t.match(merged.stdout, new RegExp(`^policy ${prod} approvals\\s+overridden: `, 'm'));
  });

  let holdId = '';
  await t.test('rollback: a dry run holds nothing; then the pull request and the hold', async (t) => {
    const dry = await ok(t, ['rollback', uat, app.name, '--reason', 'checkout double-charges', '--dry-run']);
    t.match(dry, new RegExp(`^  set\\s+${uat} PAGE ${app.uuid}: 1\\.2\\.0 → 1\\.1\\.0$`, 'm'));
    t.match(dry, /^would hold\s+1\.2\.0: checkout double-charges$/m);
    const answer = await json(t, ['rollback', uat, app.uuid, '--reason', 'checkout double-charges']);
    t.match(answer, { held_version: '1.2.0', hold: { version: '1.2.0', active: true, reason: 'checkout double-charges', manifest: uat } });
    t.equal(answer.hold.pull_request, answer.pull_request.number);
    holdId = answer.hold.id;
    t.match(
      await ok(t, ['holds']),
      new RegExp(`^${holdId}\\s+active\\s+app\\s+${app.uuid}\\s+1\\.2\\.0\\s+${uat}\\s+#${answer.pull_request.number}\\s+.+checkout double-charges$`, 'm'),
    );
  });

  await t.test('the held version is refused by promote and publish; an admin overrides; lift', async (t) => {
    const promote = await mir(['promote', uat, prod]);
    t.equal(promote.code, 3);
    t.match(
      promote.stderr,
      new RegExp(`^mir: Held: PAGE ${app.uuid} 1\\.2\\.0 \\(hold ${holdId}: checkout double-charges\\) \\(release_held, HTTP 409\\)$`, 'm'),
    );
    const publish = await mir(['--json', 'publish', prod, `${app.name}@1.2.0`]);
    t.equal(publish.code, 3);
    t.match(JSON.parse(publish.stdout), { code: 'release_held', holds: [{ id: holdId }] }, '--json prints the problem document');
    const forced = await json(t, ['promote', uat, prod, '--dry-run', '--override-reason', 'demo instance only'], admin);
    t.match(forced.policy, [{ gate: 'hold', rule: 'hold', status: 'overridden' }], 'the hold is overridden, not ignored');
    t.match(await ok(t, ['holds', 'lift', holdId, '--reason', 'fixed upstream'], admin), /^state\s+lifted$/m);
    t.match((await json(t, ['holds', 'list', '--all'])).holds, [{ id: holdId, active: false, lift_reason: 'fixed upstream' }]);
  });

  tokenNeverPrinted(t);
});
