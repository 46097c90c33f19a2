// How a received pack is held in memory: as the pieces it arrived in, which the indexer
// (src/git/pack-index.ts) does not copy into one growing buffer.
import type { PackBytes } from './pack-entry.js';

/** A pack kept as the pieces it arrived in, read by range without joining them. */
export class PackPieces implements PackBytes {
  private readonly list: Buffer[] = [];
  private readonly starts: number[] = [];
  private total = 0;

  get length(): number {
    return this.total;
  }

  /** The pieces, in order: to write without making one buffer of them. */
  get pieces(): readonly Buffer[] {
    return this.list;
  }

  add(piece: Buffer): void {
    this.list.push(piece);
    this.starts.push(this.total);
    this.total += piece.length;
  }

  /** Calls `fn` with views that together are the bytes [start, end). */
  forEachRange(start: number, end: number, fn: (bytes: Buffer) => void): void {
    if (start < 0 || end > this.total) throw new RangeError(`bytes ${start}..${end} of a pack of ${this.total}`);
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let c = lo, at = start; at < end; c++) {
      const from = at - this.starts[c]!;
      const until = Math.min(this.list[c]!.length, end - this.starts[c]!);
      fn(this.list[c]!.subarray(from, until));
      at = this.starts[c]! + until;
    }
  }

  /** The bytes [start, end): a view when they lie in one piece. */
  subarray(start: number, end: number): Buffer {
    const views: Buffer[] = [];
    this.forEachRange(start, end, (bytes) => views.push(bytes));
    return views.length === 1 ? views[0]! : Buffer.concat(views, end - start);
  }
}
