// The pieces of the smart-HTTP client that do not need a server: pkt-lines, URL redaction,
// branch-name rules. (The protocol itself is tested against git http-backend in remote*.test.ts.)
import t from 'tap';
import { isValidBranchName } from '../../src/git/git-worker.js';
import { FLUSH, pktLine, readPktLines, redact } from '../../src/git/smart-http.js';

t.test('pkt-lines round-trip, with flush packets', async (t) => {
  const bytes = Buffer.concat([pktLine('want abc\n'), FLUSH, pktLine(new Uint8Array([1, 2, 3])), pktLine('done\n')]);
  t.equal(Buffer.from(pktLine('a\n')).toString(), '0006a\n');
  const lines = [...readPktLines(bytes)].map(({ line }) => (line === null ? null : Buffer.from(line).toString('latin1')));
  t.same(lines, ['want abc\n', null, '\x01\x02\x03', 'done\n']);
  t.throws(() => [...readPktLines(Buffer.from('00zz'))], /bad pkt-line/);
  t.throws(() => [...readPktLines(Buffer.from('0009ab'))], /truncated/);
});

t.test('URLs lose their credentials and query in messages', async (t) => {
  t.equal(redact('https://bot:s3cret@git.example.com/org/repo.git?x=1'), 'https://git.example.com/org/repo.git');
  t.equal(redact('not a url'), '<invalid url>');
});

t.test('branch names follow git check-ref-format', async (t) => {
  for (const good of ['main', 'mir/manifest/prod/a1b2', 'hotfix/0d7c1c9e-4a8e-4d0c-9a57-2f2f6f1d8a11/1.2', 'release-1.0']) {
    t.ok(isValidBranchName(good), good);
  }
  for (const bad of ['', '/x', 'x/', 'a..b', 'a//b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[', 'a\\b', '.hidden', 'a/.b', 'x.lock', 'a@{1}', '@', 'end.']) {
    t.notOk(isValidBranchName(bad), JSON.stringify(bad));
  }
});
