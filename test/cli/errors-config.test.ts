// What `mir` says when something is wrong, in its exit code (the README's table) and on stderr;
// where it finds its configuration; its version and help. Real processes, a real mir.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { cliFixture } from '../helpers/mir-cli.js';
import { freePort } from '../helpers/replica.js';

t.test('mir: exit codes, configuration, help', async (t) => {
  const { url, token, home, app, prod, mir, ok, tokenNeverPrinted } = await cliFixture(t);

  await t.test('exit codes: not found 4, usage 2, conflict 3, unauthorized 6, unreachable 5', async (t) => {
    const missing = await mir(['--json', 'instances', 'show', 'nobody-here']);
    t.equal(missing.code, 4);
    t.match(missing.stderr, /^mir: .*\(instance_not_found, HTTP 404\)$/m);
    t.match(JSON.parse(missing.stdout), { code: 'instance_not_found' });
    const unknown = await mir(['release', 'no-such-app', '--bump', 'patch']);
    t.equal(unknown.code, 4);
    t.match(unknown.stderr, /no protected app or workflow is named "no-such-app"/);
    const usage = [
      ['release', app.name],
      ['release', app.name, '1.2'],
      ['pr', 'show', 'one'],
      ['publish', prod, app.name],
      ['frobnicate'],
      ['status', '--type', 'page'],
      [],
    ];
    for (const [i, run] of (await Promise.all(usage.map((args) => mir(args)))).entries()) {
      t.equal(run.code, 2, `usage error: mir ${usage[i]!.join(' ')}`);
      t.equal(run.stdout, '', 'nothing on stdout');
    }
    t.equal((await mir(['status'], { MIR_TOKEN: undefined })).code, 2, 'no token configured');
    const stranger = await mir(['status'], { MIR_TOKEN: 'mir_not-a-real-token' });
    t.equal(stranger.code, 6);
    t.match(stranger.stderr, /unauthorized/);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const closed = await mir(['status'], { MIR_URL: nobody });
    t.equal(closed.code, 5);
    t.match(closed.stderr, `cannot reach mir at ${nobody}: ECONNREFUSED`);
    t.equal((await mir(['status'], { MIR_URL: 'ftp://example.com' })).code, 2);
  });

  await t.test('a config file instead of the environment; a warning when others can read it', async (t) => {
    const dir = path.join(home, 'xdg', 'mir');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ url, token }), { mode: 0o644 });
    const env = { MIR_URL: undefined, MIR_TOKEN: undefined, XDG_CONFIG_HOME: path.join(home, 'xdg') };
    const run = await mir(['--json', 'instances', 'list'], env);
    t.equal(run.code, 0, run.stderr);
    t.match(run.stderr, /config\.json holds a token and others can read it: chmod 600/);
    await writeFile(path.join(dir, 'config.json'), '{"url": 3}');
    t.equal((await mir(['status'], env)).code, 2, 'a bad config file is a usage error');
  });

  await t.test('the version, and help for every command', async (t) => {
    t.match((await ok(t, ['--version'])).trim(), /^\d+\.\d+\.\d+$/);
    t.match(await ok(t, ['--help']), /Exit codes:/);
    const commands = [
      'status',
      'release',
      'publish',
      'pr',
      'hotfix',
      'instances',
      'compare',
      'promote',
      'rollback',
      'holds',
      'deployments',
      'drift',
      'webhooks',
      'serve',
    ];
    for (const [i, run] of (await Promise.all(commands.map((command) => mir([command, '--help'])))).entries()) {
      t.equal(run.code, 0);
      t.match(run.stdout, new RegExp(`^Usage: mir ${commands[i]} `));
    }
  });

  tokenNeverPrinted(t);
});
