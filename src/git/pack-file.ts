// A pack file read by range, for packs too large to read whole into memory (past 2 GiB a single
// read cannot hold one at all). Each read opens the file, reads one window and closes it: packs
// this large are read rarely, and no descriptor outlives a `git gc` that removes the file.
import fs from 'node:fs';
import { deflateBound, inflateEntry, MAX_HEADER, type PackBytes, type PackEntryHeader, readEntryHeader, sizeAt, typeOfKind } from './pack-entry.js';

/** Bytes [start, start + bytes.length) of a pack of `length` bytes, as PackBytes. */
class PackWindow implements PackBytes {
  constructor(
    readonly length: number,
    private readonly start: number,
    private readonly bytes: Buffer,
  ) {}

  subarray(start: number, end: number): Buffer {
    if (start < this.start || end > this.start + this.bytes.length) {
      throw new RangeError(`bytes ${start}..${end} are outside the window ${this.start}..${this.start + this.bytes.length}`);
    }
    return this.bytes.subarray(start - this.start, end - this.start);
  }
}

export class PackFile {
  constructor(
    readonly path: string,
    readonly length: number,
  ) {}

  /** The entry at `offset`: its header and its data (a whole object's content, or a delta). */
  async readEntry(offset: number): Promise<{ header: PackEntryHeader; data: Buffer }> {
    const header = readEntryHeader(await this.window(offset, offset + MAX_HEADER), offset);
    // zlib's bound first; only a stream from a less tight encoder needs the rest of the file.
    try {
      return { header, data: inflateEntry(await this.window(header.dataAt, header.dataAt + deflateBound(header.size)), header) };
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return { header, data: inflateEntry(await this.window(header.dataAt, this.length - 20), header) };
    }
  }

  /** The inflated size of the object at `offset` (for a delta, read from the start of the delta). */
  async sizeAt(offset: number): Promise<number> {
    const header = readEntryHeader(await this.window(offset, offset + MAX_HEADER), offset);
    if (typeOfKind(header.kind)) return header.size;
    return sizeAt(await this.window(offset, header.dataAt + Math.max(2048, deflateBound(header.size))), offset);
  }

  private async window(start: number, end: number): Promise<PackWindow> {
    const length = Math.min(end, this.length) - start;
    const bytes = Buffer.allocUnsafe(Math.max(0, length));
    const file = await fs.promises.open(this.path, 'r');
    try {
      let read = 0;
      while (read < bytes.length) {
        const { bytesRead } = await file.read(bytes, read, bytes.length - read, start + read);
        if (bytesRead === 0) throw new Error(`${this.path} ends at ${start + read}, before ${start + bytes.length}`);
        read += bytesRead;
      }
    } finally {
      await file.close();
    }
    return new PackWindow(this.length, start, bytes);
  }
}
