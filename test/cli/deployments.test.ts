// `mir deployments`, `mir drift` and `mir webhooks` run as real processes against a real mir on 127.0.0.1.
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';
import { manifestName } from '../helpers/repo-fixture.js';

const SECRET = 'cli-webhook-secret-0123456789';

t.test('mir deployments, mir drift, mir webhooks', async (t) => {
  const { app, prod, mir, ok, json, adminToken, tokenNeverPrinted } = await cliFixture(t, { appReleases: ['1.0.0', '1.1.0'], prodRelease: '1.1.0' });
  const name = manifestName('eu');
  await ok(t, ['instances', 'create', name, '--manifest', prod]);
  const commit = (await json(t, ['instances', 'releases', name])).commit_sha as string;

  await t.test('report, list, show, update, drift', async (t) => {
    const reported = await json(t, ['deployments', 'report', name, commit, '--status', 'running', '--releases']);
    t.match(reported.deployment, { instance: name, status: 'RUNNING', commit_sha: commit, elements: [{ uuid: app.uuid, release: '1.1.0' }] });
    const id = reported.deployment.id as string;
    t.match(await ok(t, ['deployments', 'update', name, id, 'SUCCESS']), /^status\s+SUCCESS$/m);
    t.equal((await mir(['deployments', 'update', name, id, 'RUNNING'])).code, 3, 'backwards is a conflict');
    t.match(await ok(t, ['deployments', 'list', '--instance', name]), new RegExp(`^${id}\\s+${name}\\s+SUCCESS\\s+${commit.slice(0, 7)}`, 'm'));
    t.match(await ok(t, ['deployments', 'show', id]), new RegExp(`^elements\\s+1$`, 'm'));
    t.equal((await mir(['deployments', 'list', '--status', 'DONE'])).code, 2, 'a status that is none is a usage error');
    const drift = await ok(t, ['drift', name]);
    t.match(drift, /^drifted\s+0 element\(s\)$/m);
    t.match(drift, new RegExp(`^${app.name}\\s+app\\s+1\\.1\\.0\\s+1\\.1\\.0`, 'm'));
    t.equal((await mir(['drift', manifestName('nowhere')])).code, 4);
  });

  await t.test('webhooks: admin only, the secret from the environment, never printed', async (t) => {
    const admin = { MIR_TOKEN: adminToken, MIR_WEBHOOK_SECRET_VALUE: SECRET };
    t.equal((await mir(['webhooks', 'list'])).code, 6, 'a token without admin is refused');
    t.equal(
      (await mir(['webhooks', 'create', 'https://hooks.example.com/mir', '--events', 'drift.detected'], { MIR_TOKEN: adminToken })).code,
      2,
      'no secret: usage',
    );
    const created = await mir(['--json', 'webhooks', 'create', 'https://hooks.example.com/mir', '--events', 'drift.detected,deployment.failed'], admin);
    t.equal(created.code, 0, created.stderr);
    const subscription = JSON.parse(created.stdout).subscription;
    t.same(subscription.event_types, ['drift.detected', 'deployment.failed']);
    const listed = await mir(['webhooks', 'list'], admin);
    t.match(listed.stdout, new RegExp(`^${subscription.id}\\s+https://hooks\\.example\\.com/mir\\s+drift\\.detected,deployment\\.failed\\s+yes$`, 'm'));
    t.match((await mir(['webhooks', 'update', subscription.id, '--no-active'], admin)).stdout, /^active\s+no$/m);
    t.match((await mir(['webhooks', 'deliveries', subscription.id], admin)).stdout, /no deliveries yet/);
    t.match((await mir(['webhooks', 'replay', subscription.id], admin)).stdout, /^0 deliveries due again$/m);
    t.equal((await mir(['webhooks', 'delete', subscription.id], admin)).code, 0);
    t.equal((await mir(['webhooks', 'show', subscription.id], admin)).code, 4);
    const runs = [created, listed];
    t.notOk(
      runs.some((run) => run.stdout.includes(SECRET) || run.stderr.includes(SECRET)),
      'the secret is never printed',
    );
  });

  tokenNeverPrinted(t);
});
