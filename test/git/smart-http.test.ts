// The pieces of the smart-HTTP client that do not need a server: pkt-lines, the fetch answer's
// demultiplexing, URL redaction, branch-name rules. (The protocol itself is tested against git
// http-backend in remote*.test.ts.)
import t from 'tap';
import { isValidBranchName } from '../../src/git/gateway.js';
import { createFetchDemuxer, FLUSH, pktLine, readPktLines } from '../../src/git/pkt-line.js';
import { redact } from '../../src/git/smart-http.js';

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

t.test('the fetch answer is demultiplexed alike however it is split into chunks', async (t) => {
  const pack = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
  const band = (n: number, bytes: Uint8Array) => pktLine(Buffer.concat([Buffer.from([n]), bytes]));
  const answer = Buffer.concat([
    pktLine('NAK\n'),
    band(1, pack.subarray(0, 100)),
    band(2, Buffer.from('a message from a hook\n')),
    band(1, pack.subarray(100, 101)),
    band(1, pack.subarray(101)),
    FLUSH,
    Buffer.from('after the end'),
  ]);
  for (let size = 1; size <= answer.length; size++) {
    const received: Uint8Array[] = [];
    const demuxer = createFetchDemuxer((data) => received.push(Uint8Array.from(data)));
    for (let at = 0; at < answer.length; at += size) demuxer.push(answer.subarray(at, at + size));
    if (Buffer.compare(Buffer.concat(received), pack) !== 0) t.fail(`chunks of ${size} bytes`);
    t.equal(demuxer.sawData, true);
  }
  // Every split point of two chunks, too.
  for (let cut = 0; cut <= answer.length; cut++) {
    const received: Uint8Array[] = [];
    const demuxer = createFetchDemuxer((data) => received.push(data));
    demuxer.push(answer.subarray(0, cut));
    demuxer.push(answer.subarray(cut));
    if (Buffer.compare(Buffer.concat(received), pack) !== 0) t.fail(`split at ${cut}`);
  }

  const failing = createFetchDemuxer(() => undefined);
  t.throws(() => failing.push(Buffer.concat([pktLine('NAK\n'), band(3, Buffer.from('disk full'))])), { code: 'git_unavailable', message: /disk full/ });
  t.throws(() => createFetchDemuxer(() => undefined).push(pktLine('ERR access denied\n')), { message: /refused the fetch: access denied/ });
  t.throws(() => createFetchDemuxer(() => undefined).push(Buffer.from('zzzz')), { message: /malformed packet/ });
  const empty = createFetchDemuxer(() => undefined);
  empty.push(Buffer.concat([pktLine('NAK\n'), FLUSH]));
  t.equal(empty.sawData, false, 'no pack at all');
});
