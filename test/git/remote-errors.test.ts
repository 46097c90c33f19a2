// Remote mode, the unhappy and the periodic paths: declined pushes, credentials, unreachable and
// empty remotes, polling — against a real `git http-backend` on 127.0.0.1.
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { INITIAL_FILES } from '../../src/git/gateway.js';
import { commitFiles, installHook, tempDir } from '../helpers/git-server.js';
import { author, enc, makeGateway } from './fixtures.js';
import { remoteSetup } from './remote-fixtures.js';

t.test('a push the remote declines is a 409 with its reason', async (t) => {
  const { origin, make, git } = await remoteSetup(t);
  await installHook(origin, 'pre-receive', '#!/bin/sh\necho "policy: pushes need a ticket" >&2\nexit 1\n');
  const gateway = make();
  await gateway.start();
  const commit = await gateway.commit({ parent: await gateway.headCommit(), changes: [{ path: 'a', bytes: enc('a') }], message: 'a', author });
  const error = await gateway.pushBranch({ branch: 'mir/publish/p1', commit, expectedOld: null }).catch((e: unknown) => e);
  t.match(error, {
    status: 409,
    code: 'push_rejected',
    details: { branch: 'mir/publish/p1', reason: /pre-receive hook declined.*policy: pushes need a ticket/ },
  });
  await t.rejects(git('rev-parse', '--verify', 'refs/heads/mir/publish/p1'));
  t.equal(await gateway.resolveRef('mir/publish/p1'), null, 'the mirror does not pretend it landed');
});

t.test('credentials go through onAuth; bad ones are 503 git_auth_failed', async (t) => {
  const auth = { username: 'bot', password: 's3cret-token' };
  const { make, git, server } = await remoteSetup(t, { auth });
  const good = make({ username: 'bot', token: 's3cret-token' });
  await good.start();
  const commit = await good.commit({ parent: await good.headCommit(), changes: [{ path: 'a', bytes: enc('a') }], message: 'a', author });
  await good.pushBranch({ branch: 'mir/x', commit, expectedOld: null });
  t.equal((await git('rev-parse', 'mir/x')).trim(), commit);
  t.ok(
    server.requests.some((r) => r.status === 401),
    'the first request went without credentials',
  );

  const other = await tempDir();
  t.teardown(other.remove);
  const bad = make({ username: 'bot', token: 'wrong' }, other.path);
  await t.rejects(bad.start(), { status: 503, code: 'git_auth_failed' });
  const none = make({}, path.join(other.path, 'none'));
  await t.rejects(none.start(), { status: 503, code: 'git_auth_failed' });
  const error = await make({ username: 'bot', token: 'wrong' }, path.join(other.path, 'x'))
    .start()
    .catch((e: unknown) => e);
  t.notMatch(String((error as Error).message), /wrong/, 'the token never appears in the message');
});

t.test('an unreachable or missing remote is 503 git_unavailable', async (t) => {
  const { data, make, server } = await remoteSetup(t);
  const refused = makeGateway({ dataDir: path.join(data, 'a'), git: { url: 'http://127.0.0.1:1/nothing.git' } });
  await t.rejects(refused.start(), { status: 503, code: 'git_unavailable' });
  const missing = make({ url: server.repoUrl('does-not-exist') }, path.join(data, 'b'));
  await t.rejects(missing.start(), { status: 503, code: 'git_unavailable' });

  // Started, then the remote goes away: fetches and writes fail with 503, reads keep working.
  const gateway = make({}, path.join(data, 'c'));
  await gateway.start();
  const head = await gateway.headCommit();
  await server.close();
  await t.rejects(gateway.fetchAllBranches(), { status: 503, code: 'git_unavailable' });
  const commit = await gateway.commit({ parent: head, changes: [{ path: 'a', bytes: enc('a') }], message: 'a', author });
  await t.rejects(gateway.pushBranch({ branch: 'mir/y', commit, expectedOld: null }), { status: 503, code: 'git_unavailable' });
  t.equal(await gateway.headCommit(), head);
});

/**
 * A TCP proxy to the git server that resets the connection carrying the next request whose first
 * line matches `reset` (once per `arm()`): what a client sees when a kept-alive connection is
 * closed by the remote as a request goes out on it.
 */
async function resettingProxy(t: Test, target: URL) {
  let armed: RegExp | null = null;
  const resets: string[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      const line = chunk.toString('latin1').split('\r\n', 1)[0]!;
      if (armed?.test(line)) {
        armed = null;
        resets.push(line);
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    resets,
    arm(reset: RegExp) {
      armed = reset;
    },
  };
}

t.test('a connection reset before the answer: reads are asked once more, a push is not', async (t) => {
  const { make, server, git, origin } = await remoteSetup(t);
  const proxy = await resettingProxy(t, new URL(server.repoUrl('origin')));
  const gateway = make({ url: proxy.url });
  proxy.arm(/^GET .*info\/refs\?service=git-upload-pack/);
  await gateway.start();
  proxy.arm(/^POST .*\/git-upload-pack /);
  const theirs = await commitFiles({ repo: origin, branch: 'moved', files: { moved: 'm' }, message: 'm' });
  await gateway.fetchAllBranches();
  t.same(proxy.resets, [
    `GET ${new URL(proxy.url).pathname}/info/refs?service=git-upload-pack HTTP/1.1`,
    `POST ${new URL(proxy.url).pathname}/git-upload-pack HTTP/1.1`,
  ]);
  t.equal(await gateway.resolveRef('moved'), theirs, 'each was answered on a new connection: the fetch brought the new branch');

  const commit = await gateway.commit({ parent: await gateway.headCommit(), changes: [{ path: 'a', bytes: enc('a') }], message: 'a', author });
  proxy.arm(/^POST .*\/git-receive-pack /);
  await t.rejects(gateway.pushBranch({ branch: 'mir/reset', commit, expectedOld: null }), { status: 503, code: 'git_unavailable' });
  t.equal(proxy.resets.length, 3, 'the push was reset');
  await t.rejects(git('rev-parse', '--verify', 'refs/heads/mir/reset'), 'and not sent again');
});

t.test('an empty remote gets the initial commit', async (t) => {
  const { make, git } = await remoteSetup(t, { files: null });
  const gateway = make();
  await gateway.start();
  t.equal((await git('rev-parse', 'main')).trim(), await gateway.headCommit());
  t.same((await git('ls-tree', '-r', '--name-only', 'main')).trim().split('\n').sort(), INITIAL_FILES.map((f) => f.path).sort());
  await git('fsck', '--strict');
});

t.test('polls the remote every pollSeconds until closed', async (t) => {
  const { origin, make } = await remoteSetup(t);
  const gateway = make({ pollSeconds: 1 });
  await gateway.start();
  const theirs = await commitFiles({ repo: origin, branch: 'main', files: { polled: 'p' }, message: 'p' });
  const deadline = Date.now() + 10_000;
  while ((await gateway.resolveRef('main')) !== theirs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(await gateway.resolveRef('main'), theirs, 'the poll brought the new commit');
  await gateway.close();
  const fetches = gateway.stats().fetches;
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(gateway.stats().fetches, fetches, 'no poll after close');
});
