// Git's pkt-line framing (https://git-scm.com/docs/protocol-common#_pkt_line_format) and the
// side-band demuxer that reads a fetch's answer: the wire format under src/git/smart-http.ts.
import { errors } from '../errors.js';

const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function pktLine(payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const out = new Uint8Array(body.length + 4);
  out.set(encoder.encode((body.length + 4).toString(16).padStart(4, '0')), 0);
  out.set(body, 4);
  return out;
}

export const FLUSH = encoder.encode('0000');

/** The 4-hex-digit length at `at`, or NaN when it is not one (parseInt alone accepts "00zz"). */
function pktLength(buffer: Uint8Array, at: number): number {
  const digits = decoder.decode(buffer.subarray(at, at + 4));
  return /^[0-9a-fA-F]{4}$/.test(digits) ? parseInt(digits, 16) : NaN;
}

/** Splits a buffer of pkt-lines; `null` stands for a flush-pkt. Stops at `stopAt` bytes consumed. */
export function* readPktLines(buffer: Uint8Array, start = 0): Generator<{ line: Uint8Array | null; end: number }> {
  let offset = start;
  while (offset + 4 <= buffer.length) {
    const length = pktLength(buffer, offset);
    // A malformed answer is the remote's fault (or a proxy's that cut it short): 503, not 500.
    if (Number.isNaN(length)) throw errors.gitUnavailable(`the remote sent a bad pkt-line length at ${offset}`);
    if (length === 0 || length === 1 || length === 2) {
      offset += 4;
      yield { line: null, end: offset };
      continue;
    }
    if (length < 4 || offset + length > buffer.length) throw errors.gitUnavailable(`the remote sent a truncated pkt-line at ${offset}`);
    const line = buffer.subarray(offset + 4, offset + length);
    offset += length;
    yield { line, end: offset };
  }
}

export function text(line: Uint8Array): string {
  return decoder.decode(line).replace(/\n$/, '');
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Reads the answer to a fetch (upload-pack without multi_ack): one ACK or NAK line, then the pack
 * in side-band-64k lines, until a flush-pkt. Pack data goes to `onData` as views of the chunks
 * pushed, never copied: only a line's header, or a whole line that is not pack data (ACK, NAK, an
 * error), is gathered when it spans two chunks.
 */
export function createFetchDemuxer(onData: (data: Uint8Array) => void): { push(chunk: Uint8Array): void; readonly sawData: boolean } {
  let partial: Uint8Array = new Uint8Array(0);
  let dataLeft = 0;
  let acknowledged = false;
  let ended = false;
  let sawData = false;
  const onLine = (line: Uint8Array): void => {
    if (!acknowledged) {
      const value = text(line);
      if (value.startsWith('ERR ')) throw errors.gitUnavailable(`the remote refused the fetch: ${value.slice(4)}`);
      if (value.startsWith('ACK') || value.startsWith('NAK')) acknowledged = true;
    } else if (line[0] === 3) throw errors.gitUnavailable(`the remote failed: ${text(line.subarray(1))}`);
  };
  return {
    get sawData() {
      return sawData;
    },
    push(chunk) {
      let at = 0;
      // Moves bytes of this chunk into `partial` until it holds n; false if the chunk ends first.
      const gather = (n: number): boolean => {
        const take = Math.min(n - partial.length, chunk.length - at);
        if (take > 0) {
          partial = concat([partial, chunk.subarray(at, at + take)]);
          at += take;
        }
        return partial.length >= n;
      };
      // The next n bytes of the current line: all of `partial` (gathered), or a view of the chunk.
      const ahead = (n: number): Uint8Array | undefined =>
        partial.length === 0 && chunk.length - at >= n ? chunk.subarray(at, at + n) : gather(n) ? partial : undefined;
      const consume = (n: number): void => {
        if (partial.length > 0) partial = new Uint8Array(0);
        else at += n;
      };
      while (at < chunk.length && !ended) {
        if (dataLeft > 0) {
          const take = Math.min(dataLeft, chunk.length - at);
          onData(chunk.subarray(at, at + take));
          at += take;
          dataLeft -= take;
          continue;
        }
        const header = ahead(4);
        if (!header) return;
        const length = pktLength(header, 0);
        if (Number.isNaN(length)) throw errors.gitUnavailable('the remote answered the fetch with a malformed packet');
        if (length < 4) {
          // A flush-pkt: after the acknowledgement, the end of the pack.
          consume(4);
          if (acknowledged) ended = true;
          continue;
        }
        if (acknowledged) {
          const withBand = ahead(5);
          if (!withBand) return;
          if (withBand[4] === 1) {
            consume(5);
            dataLeft = length - 5;
            sawData = true;
            continue;
          }
        }
        const line = ahead(length);
        if (!line) return;
        onLine(line.subarray(4));
        consume(length);
      }
    },
  };
}
