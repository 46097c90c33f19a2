// Inflates zlib streams that lie back to back in a buffer, as the entries of a pack do, and tells
// where each one ends.
//
// `zlib.inflateSync` builds a stream object and a native zlib context per call. On a pack of
// 50,000 small objects that is about 5 µs an object, most of a clone's indexing time; reusing one
// context is five times faster (bench/RESULTS.md, git section). Node has no public API for that,
// so this drives the native handle Node's own lib/zlib.js drives for every sync call
// (`_handle.writeSync`, `_handle.reset`, `_writeState`; unchanged since Node 10). Where that handle
// is not there (another runtime, a future Node), it falls back to `inflateSync`: slower, the same
// results. test/git/inflater.test.ts runs both.
import zlib from 'node:zlib';

export interface Inflater {
  /** Which way it inflates: one reused native zlib context, or `inflateSync` per stream. */
  readonly kind: 'native-context' | 'portable';
  /**
   * Inflates the zlib stream that starts at `input[start]` and ends before `end` into
   * `out[at … at + size)`, and returns how many input bytes the stream took (its zlib header
   * and checksum included). `out` needs one byte of room past that: a stream that fills it holds
   * more than `size`. Throws when the stream does not hold exactly `size` bytes, when the data is
   * corrupt, and (with code `Z_BUF_ERROR`) when the stream does not end before `end`.
   */
  inflateInto(input: Buffer, start: number, end: number, out: Buffer, at: number, size: number): number;
}

interface NativeHandle {
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): void;
  reset(): void;
  onerror: (message: string, errno: number, code: string) => void;
}

function checkSize(produced: number, size: number): void {
  if (produced > size) throw new Error(`the zlib stream holds more than the ${size} bytes expected`);
  if (produced < size) throw new Error(`the zlib stream holds ${produced} bytes, not ${size}`);
}

function checkRoom(out: Buffer, at: number, size: number): void {
  if (at + size + 1 > out.length) throw new RangeError(`no room for ${size} bytes and one more at ${at} of ${out.length}`);
}

function portableInflater(): Inflater {
  return {
    kind: 'portable',
    inflateInto(input, start, end, out, at, size) {
      checkRoom(out, at, size);
      const result = zlib.inflateSync(input.subarray(start, end), { info: true, chunkSize: Math.max(64, size) }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      checkSize(result.buffer.length, size);
      result.buffer.copy(out, at);
      return result.engine.bytesWritten;
    },
  };
}

function nativeInflater(engine: zlib.Inflate): Inflater | undefined {
  const internals = engine as unknown as { _handle?: Partial<NativeHandle>; _writeState?: unknown };
  const handle = internals._handle;
  const state = internals._writeState;
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array) || state.length !== 2) {
    return undefined;
  }
  const native = handle as NativeHandle;
  // The native side reports errors through this callback, synchronously, during writeSync.
  let failure: Error | undefined;
  native.onerror = (message, errno, code) => {
    failure = Object.assign(new Error(message), { errno, code });
  };
  return {
    kind: 'native-context',
    inflateInto(input, start, end, out, at, size) {
      checkRoom(out, at, size);
      failure = undefined;
      native.reset();
      native.writeSync(zlib.constants.Z_FINISH, input, start, end - start, out, at, size + 1);
      if (failure) throw failure;
      // [0] output room left, [1] input left.
      checkSize(size + 1 - state[0]!, size);
      return end - start - state[1]!;
    },
  };
}

/** An inflater; `portable` forces the `inflateSync` path (for tests). */
export function createInflater(options: { portable?: boolean } = {}): Inflater {
  return (options.portable ? undefined : nativeInflater(new zlib.Inflate())) ?? portableInflater();
}

/** Inflates one stream into a buffer of its own: its data, and the input bytes it took. */
export function inflateOne(inflater: Inflater, input: Buffer, start: number, end: number, size: number): { data: Buffer; consumed: number } {
  const out = Buffer.allocUnsafe(size + 1);
  const consumed = inflater.inflateInto(input, start, end, out, 0, size);
  return { data: out.subarray(0, size), consumed };
}
