// `mir hotfix` run as a real process against a real mir on 127.0.0.1.
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';

t.test('mir hotfix: tables, --json, dry runs that change nothing', async (t) => {
  const { app, mir, ok, json, tokenNeverPrinted } = await cliFixture(t, { appReleases: ['1.0.0', '1.1.0'] });

  await t.test('hotfix: create (dry run first), list, show, release refused while empty, abandon', async (t) => {
    t.match(await json(t, ['hotfix', 'create', app.name, '1.0.0', '--dry-run']), { dry_run: true, line: '1.0', branch_name: `hotfix/${app.uuid}/1.0` });
    const created = await json(t, ['hotfix', 'create', app.name, '1.0.0']);
    t.match(created, { hotfix: { state: 'open', line: '1.0', element_uuid: app.uuid } });
    const id: string = created.hotfix.id;
    const twice = await mir(['hotfix', 'create', app.name, '1.0.0']);
    t.equal(twice.code, 3, 'one open hotfix per line');
    t.match(twice.stderr, /hotfix_exists/);
    t.match(await ok(t, ['hotfix', 'list', '--element', app.name]), new RegExp(`^${id}\\s+open\\s+${app.uuid}\\s+1\\.0\\s+—`, 'm'));
    t.match((await json(t, ['hotfix', 'list', '--state', 'open'])).hotfixes, [{ id }]);
    t.match(await ok(t, ['hotfix', 'show', id]), new RegExp(`^branch\\s+hotfix/${app.uuid}/1\\.0$`, 'm'));
    t.match((await json(t, ['hotfix', 'show', id])).commits, []);
    const empty = await mir(['hotfix', 'release', id, '--dry-run']);
    t.equal(empty.code, 3);
    t.match(empty.stderr, /hotfix_empty/);
    t.match(await ok(t, ['hotfix', 'abandon', id, '--dry-run']), new RegExp(`^would delete\\s+hotfix/${app.uuid}/1\\.0$`, 'm'));
    t.match(await ok(t, ['hotfix', 'abandon', id]), /^state\s+abandoned$/m);
  });

  tokenNeverPrinted(t);
});
