// Writes zip files byte by byte, so tests can build what no honest writer would: lying sizes,
// names that escape, overlapping entries, mismatched headers, zip64 records.
// Layouts from PKWARE's APPNOTE.TXT §4.3.

import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftEntry {
  /** The name in the central directory; a string is written as UTF-8. */
  name: string | Uint8Array;
  /** The bytes stored after the local header (already compressed for method 8). */
  data: Uint8Array;
  method?: number;
  crc?: number;
  uncompressedSize?: number;
  flags?: number;
  /** The name in the local header, when it should differ. */
  localName?: string | Uint8Array;
  extra?: Uint8Array;
  /** The compressed size in the central directory, when it should lie. */
  compressedSize?: number;
}

export interface CraftOptions {
  /** The entry count written in the end record, when it should lie. */
  declaredCount?: number;
  /** Write zip64 end records and 0xFFFFFFFF sizes with a zip64 extra field. */
  zip64?: boolean;
  comment?: string;
}

const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? new TextEncoder().encode(s) : s);

/** An entry stored as is, sizes and CRC computed. */
export function stored(name: string, content: string | Uint8Array, more: Partial<CraftEntry> = {}): CraftEntry {
  const data = bytesOf(content);
  return { name, data, method: 0, crc: crc32(data), uncompressedSize: data.length, ...more };
}

/** An entry deflated by node:zlib, sizes and CRC computed. */
export function deflated(name: string, content: string | Uint8Array, more: Partial<CraftEntry> = {}): CraftEntry {
  const raw = bytesOf(content);
  return { name, data: new Uint8Array(deflateRawSync(raw)), method: 8, crc: crc32(raw), uncompressedSize: raw.length, ...more };
}

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u16(n: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, n, true);
    this.bytes(b);
  }
  u32(n: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0, true);
    this.bytes(b);
  }
  u64(n: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    this.bytes(b);
  }
  result(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function zip64Extra(uncompressed: number, compressed: number, offset: number): Uint8Array {
  const w = new Writer();
  w.u16(0x0001);
  w.u16(24);
  w.u64(uncompressed);
  w.u64(compressed);
  w.u64(offset);
  return w.result();
}

export function craftZip(entries: readonly CraftEntry[], options: CraftOptions = {}): Uint8Array {
  const w = new Writer();
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(w.length);
    const name = bytesOf(e.localName ?? e.name);
    const extra = e.extra ?? new Uint8Array(0);
    w.u32(0x04034b50);
    w.u16(20);
    w.u16(e.flags ?? 0);
    w.u16(e.method ?? 0);
    w.u16(0);
    w.u16(0x21);
    w.u32(e.crc ?? 0);
    w.u32(e.data.length);
    w.u32(e.uncompressedSize ?? e.data.length);
    w.u16(name.length);
    w.u16(extra.length);
    w.bytes(name);
    w.bytes(extra);
    w.bytes(e.data);
  }
  const directoryOffset = w.length;
  entries.forEach((e, i) => {
    const name = bytesOf(e.name);
    const offset = offsets[i] as number;
    const compressed = e.compressedSize ?? e.data.length;
    const uncompressed = e.uncompressedSize ?? e.data.length;
    const extra = options.zip64 ? zip64Extra(uncompressed, compressed, offset) : (e.extra ?? new Uint8Array(0));
    w.u32(0x02014b50);
    w.u16(0x031e);
    w.u16(options.zip64 ? 45 : 20);
    w.u16(e.flags ?? 0);
    w.u16(e.method ?? 0);
    w.u16(0);
    w.u16(0x21);
    w.u32(e.crc ?? 0);
    w.u32(options.zip64 ? 0xffffffff : compressed);
    w.u32(options.zip64 ? 0xffffffff : uncompressed);
    w.u16(name.length);
    w.u16(extra.length);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.u32(0o100644 << 16);
    w.u32(options.zip64 ? 0xffffffff : offset);
    w.bytes(name);
    w.bytes(extra);
  });
  const directorySize = w.length - directoryOffset;
  const count = options.declaredCount ?? entries.length;
  if (options.zip64) {
    const record = w.length;
    w.u32(0x06064b50);
    w.u64(44);
    w.u16(45);
    w.u16(45);
    w.u32(0);
    w.u32(0);
    w.u64(count);
    w.u64(count);
    w.u64(directorySize);
    w.u64(directoryOffset);
    w.u32(0x07064b50);
    w.u32(0);
    w.u64(record);
    w.u32(1);
  }
  const comment = bytesOf(options.comment ?? '');
  w.u32(0x06054b50);
  w.u16(0);
  w.u16(0);
  w.u16(options.zip64 ? 0xffff : count);
  w.u16(options.zip64 ? 0xffff : count);
  w.u32(options.zip64 ? 0xffffffff : directorySize);
  w.u32(options.zip64 ? 0xffffffff : directoryOffset);
  w.u16(comment.length);
  w.bytes(comment);
  return w.result();
}

/** Names and DOS date/time of every local header and central directory entry of a zip. */
export function listHeaders(zip: Uint8Array): { local: HeaderInfo[]; central: HeaderInfo[] } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const decode = (at: number, length: number) => new TextDecoder().decode(zip.subarray(at, at + length));
  const local: HeaderInfo[] = [];
  let at = 0;
  while (view.getUint32(at, true) === 0x04034b50) {
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    local.push({
      name: decode(at + 30, nameLength),
      time: view.getUint16(at + 10, true),
      date: view.getUint16(at + 12, true),
      method: view.getUint16(at + 8, true),
    });
    at += 30 + nameLength + extraLength + view.getUint32(at + 18, true);
  }
  const central: HeaderInfo[] = [];
  while (view.getUint32(at, true) === 0x02014b50) {
    const nameLength = view.getUint16(at + 28, true);
    central.push({
      name: decode(at + 46, nameLength),
      time: view.getUint16(at + 12, true),
      date: view.getUint16(at + 14, true),
      method: view.getUint16(at + 10, true),
      mode: view.getUint32(at + 38, true) >>> 16,
    });
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return { local, central };
}

export interface HeaderInfo {
  name: string;
  time: number;
  date: number;
  method: number;
  mode?: number;
}
