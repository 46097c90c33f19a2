// Both inflaters (the reused native zlib context and the portable inflateSync one) must read back to
// back zlib streams exactly alike: data, where each stream ends, and their errors.
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import t from 'tap';
import { createInflater, inflateOne } from '../../src/git/inflater.js';

const streams = [Buffer.from('hello, world\n'), Buffer.alloc(0), randomBytes(70_000), Buffer.from('x'.repeat(100_000)), randomBytes(3)];
const packed = Buffer.concat(streams.map((s) => zlib.deflateSync(s)));

for (const portable of [false, true]) {
  t.test(portable ? 'the portable inflater' : 'the native-context inflater', async (t) => {
    const inflater = createInflater({ portable });
    t.equal(inflater.kind, portable ? 'portable' : 'native-context', 'Node 20 has the handle the fast path drives');
    let at = 0;
    const scratch = Buffer.alloc(200_000, 0xee);
    for (const expected of streams) {
      const { data, consumed } = inflateOne(inflater, packed, at, packed.length, expected.length);
      t.equal(Buffer.compare(data, expected), 0, `${expected.length} bytes`);
      // Into a buffer at an offset: the bytes around are left alone.
      t.equal(inflater.inflateInto(packed, at, packed.length, scratch, 8, expected.length), consumed);
      t.equal(Buffer.compare(scratch.subarray(8, 8 + expected.length), expected), 0);
      t.equal(scratch[7], 0xee, 'nothing written before');
      at += consumed;
    }
    t.equal(at, packed.length, 'each stream ends where the next begins');
    t.throws(() => inflater.inflateInto(packed, 0, packed.length, Buffer.alloc(13), 0, 13), RangeError, 'no room for the spare byte');

    const one = zlib.deflateSync(Buffer.from('abcdef'));
    t.throws(() => inflateOne(inflater, one, 0, one.length, 5), /more than the 5 bytes/, 'more data than declared');
    t.throws(() => inflateOne(inflater, one, 0, one.length, 7), /holds 6 bytes, not 7/, 'less data than declared');
    t.throws(() => inflateOne(inflater, one, 0, one.length - 4, 6), { code: 'Z_BUF_ERROR' }, 'a stream cut short');
    const damaged = Buffer.from(one);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    t.throws(() => inflateOne(inflater, damaged, 0, damaged.length, 6), /check/, 'a bad checksum');
    t.equal(inflateOne(inflater, one, 0, one.length, 6).data.toString(), 'abcdef', 'still usable after errors');
  });
}
