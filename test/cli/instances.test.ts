// `mir instances` run as a real process against a real mir on 127.0.0.1.
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';
import { manifestName } from '../helpers/repo-fixture.js';

t.test('mir instances: tables, --json, dry runs that change nothing', async (t) => {
  const { app, prod, uat, mir, ok, json, tokenNeverPrinted } = await cliFixture(t, { appReleases: ['1.0.0', '1.1.0'], prodRelease: '1.1.0' });

  await t.test('instances: create (dry run first), list, show, bind, unbind, releases', async (t) => {
    const name = manifestName('eu');
    t.match(await json(t, ['instances', 'create', name, '--manifest', uat, '--dry-run']), { dry_run: true, instance: { name, manifest: uat } });
    t.equal((await mir(['instances', 'show', name])).code, 4, 'the dry run created nothing');
    const created = await ok(t, ['instances', 'create', name, '--manifest', uat, '--description', 'EU production', '--instance-url', 'https://eu.example.com']);
    t.match(created, new RegExp(`^manifest\\s+${uat}$`, 'm'));
    t.match(await ok(t, ['instances', 'list']), new RegExp(`^${name}\\s+${uat}\\s+https://eu\\.example\\.com\\s+EU production$`, 'm'));
    t.match((await json(t, ['instances', 'list', '--manifest', uat])).instances, [{ name, manifest: uat }]);
    t.match(await ok(t, ['instances', 'bind', name, prod, '--dry-run']), new RegExp(`^would follow\\s+${uat} → ${prod}$`, 'm'));
    t.equal((await json(t, ['instances', 'show', name])).instance.manifest, uat, 'the dry run bound nothing');
    t.equal((await json(t, ['instances', 'unbind', name])).instance.manifest, null);
    t.equal((await mir(['instances', 'releases', name])).code, 3, 'an unbound instance runs nothing: instance_unbound');
    t.match(await ok(t, ['instances', 'bind', name, prod]), new RegExp(`^manifest\\s+${prod}$`, 'm'));
    t.match(await ok(t, ['instances', 'show', name]), new RegExp(`^instance\\s+${name}$`, 'm'));
    const releases = await json(t, ['instances', 'releases', name]);
    t.match(releases, { instance: name, manifest: prod, elements: [{ uuid: app.uuid, release: '1.1.0', artifact: { sha256: /^[0-9a-f]{64}$/ } }] });
    t.match(await ok(t, ['instances', 'releases', name]), new RegExp(`^${app.name}\\s+app\\s+1\\.1\\.0\\s+[0-9a-f]{12}\\s`, 'm'));
    t.equal((await mir(['instances', 'bind', name, manifestName('nowhere'), '--dry-run'])).code, 4, 'a dry run checks the manifest exists');
  });

  tokenNeverPrinted(t);
});
