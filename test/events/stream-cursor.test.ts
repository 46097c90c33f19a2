// The event stream's cursor over the outbox (advanceCursor): rows are handed out in seq order while
// they follow on; at a hole (a seq taken by a transaction not committed yet) it waits, on a clock of
// its own, up to the gap timeout, then counts the hole as rolled back. Pure logic: the database side
// is in test/events/stream.test.ts.
import t from 'tap';
import { advanceCursor, type Cursor } from '../../src/events/event-stream.js';

const GAP_MS = 5_000;
const rows = (...seqs: number[]) => seqs.map((seq) => ({ seq }));
const seqs = (result: { deliver: { seq: number }[] }) => result.deliver.map((row) => row.seq);

t.test('rows that follow on are handed out and move the cursor', async (t) => {
  const result = advanceCursor({ at: 9, gap: null }, rows(10, 11, 12), 0, GAP_MS);
  t.same(seqs(result), [10, 11, 12]);
  t.same(result.cursor, { at: 12, gap: null });
  t.same(seqs(advanceCursor(result.cursor, [], 1, GAP_MS)), [], 'nothing new: nothing handed out');
});

t.test('a hole holds the cursor before it; the late row, once committed, comes first', async (t) => {
  let cursor: Cursor = { at: 9, gap: null };
  let result = advanceCursor(cursor, rows(11, 12), 1_000, GAP_MS);
  t.same(seqs(result), [], '11 is visible, 10 not yet: nothing past the hole');
  t.same(result.cursor, { at: 9, gap: { seq: 10, since: 1_000 } });
  cursor = result.cursor;
  result = advanceCursor(cursor, rows(11, 12), 5_999, GAP_MS);
  t.same(seqs(result), [], 'still within the gap timeout');
  t.same(result.cursor.gap, { seq: 10, since: 1_000 }, 'the hole keeps the time it was first seen');
  result = advanceCursor(result.cursor, rows(10, 11, 12), 6_500, GAP_MS);
  t.same(seqs(result), [10, 11, 12], '10 committed: in seq order, nothing lost');
  t.same(result.cursor, { at: 12, gap: null });
});

t.test('a hole open for the gap timeout counts as rolled back', async (t) => {
  let result = advanceCursor({ at: 9, gap: null }, rows(12, 13), 0, GAP_MS);
  t.same(seqs(result), []);
  result = advanceCursor(result.cursor, rows(12, 13), GAP_MS, GAP_MS);
  t.same(seqs(result), [12, 13], '10 and 11 given up once the hole is GAP_MS old');
  t.same(result.cursor, { at: 13, gap: null });
  t.same(seqs(advanceCursor(result.cursor, rows(10, 14), GAP_MS + 1, GAP_MS)), [14], 'a row below the cursor is never handed out');
});

t.test('rows before a hole go out at once; a second hole is timed from when it is seen', async (t) => {
  let result = advanceCursor({ at: 0, gap: null }, rows(1, 2, 4), 100, GAP_MS);
  t.same(seqs(result), [1, 2]);
  t.same(result.cursor, { at: 2, gap: { seq: 3, since: 100 } });
  result = advanceCursor(result.cursor, rows(3, 4, 6), 200, GAP_MS);
  t.same(seqs(result), [3, 4]);
  t.same(result.cursor, { at: 4, gap: { seq: 5, since: 200 } }, 'a new hole: a new clock');
  result = advanceCursor(result.cursor, rows(6), 200 + GAP_MS - 1, GAP_MS);
  t.same(seqs(result), []);
  t.same(seqs(advanceCursor(result.cursor, rows(6), 200 + GAP_MS, GAP_MS)), [6]);
});

t.test('a gap timeout of 0 never waits', async (t) => {
  t.same(seqs(advanceCursor({ at: 0, gap: null }, rows(3, 7), 0, 0)), [3, 7]);
});
