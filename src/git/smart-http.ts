// Git's smart HTTP protocol (v0/v1, stateless RPC), spoken directly:
// https://git-scm.com/docs/http-protocol, https://git-scm.com/docs/pack-protocol.
// Why not git.push / git.fetch: isomorphic-git's push walks the whole history to find what to send,
// and its fetch of a branch not present locally sends no `have`s and downloads the whole pack
// (docs/architecture.md has the figures). Here a push sends exactly the objects the worker wrote,
// and a fetch offers every local branch tip as a `have`, so only new objects travel.
import { errors, isAppError } from '../errors.js';

export const ZERO_OID = '0000000000000000000000000000000000000000';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Like isomorphic-git's onAuth (https://isomorphic-git.org/docs/en/onAuth): asked on a 401. */
export type AuthCallback = (url: string) => Credentials | undefined | Promise<Credentials | undefined>;

export interface RemoteRefs {
  /** Full ref name (`refs/heads/main`) to oid. */
  readonly refs: Map<string, string>;
  readonly capabilities: Set<string>;
  /** The target of HEAD when the server advertises `symref=HEAD:…`. */
  readonly head?: string;
}

export interface RefUpdateResult {
  readonly ref: string;
  readonly ok: boolean;
  /** The remote's reason when !ok. */
  readonly reason?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

function text(line: Uint8Array): string {
  return decoder.decode(line).replace(/\n$/, '');
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
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

export interface SmartHttpOptions {
  /** Repository URL, e.g. https://git.example.com/org/repo.git. Credentials in it are used as onAuth would. */
  readonly url: string;
  readonly onAuth?: AuthCallback;
  /** Milliseconds before a request is abandoned (503 git_unavailable). */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

export interface SmartHttpClient {
  listRefs(service: 'git-upload-pack' | 'git-receive-pack'): Promise<RemoteRefs>;
  /**
   * Streams the pack holding `wants` minus what `haves` reach (not thin, ofs-deltas allowed) to
   * `onData` as it arrives. Asks nothing when `wants` is empty.
   */
  fetchPack(options: { wants: readonly string[]; haves: readonly string[]; onData: (chunk: Uint8Array) => void }): Promise<void>;
  /** Sends ref updates (and the pack with their objects); the remote's verdict per ref. */
  receivePack(options: {
    commands: readonly { ref: string; old: string; new: string }[];
    pack: Uint8Array | null;
  }): Promise<{ results: RefUpdateResult[]; messages: string[] }>;
}

export function createSmartHttpClient(options: SmartHttpOptions): SmartHttpClient {
  const parsed = new URL(options.url);
  // fetch() refuses URLs with credentials; they become the basic-auth answer instead.
  const urlCredentials =
    parsed.username || parsed.password ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) } : undefined;
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const userAgent = options.userAgent ?? 'git/mir';
  let authorization: string | undefined;

  /** One request; with `onChunk` the answer's body is handed over as it arrives (and not returned). */
  async function send(
    path: string,
    init: { method: 'GET' | 'POST'; body?: Uint8Array; contentType?: string; accept: string; onChunk?: (chunk: Uint8Array) => void },
  ): Promise<Uint8Array> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': userAgent, accept: init.accept, 'git-protocol': 'version=0' };
      if (init.contentType) headers['content-type'] = init.contentType;
      if (authorization) headers.authorization = authorization;
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method: init.method,
          headers,
          ...(init.body ? { body: init.body } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw errors.gitUnavailable(`${init.method} ${redact(base)}${path.split('?')[0]}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, error);
      }
      if (response.status === 401 && attempt === 0) {
        await response.arrayBuffer().catch(() => undefined);
        const credentials = urlCredentials ?? (await options.onAuth?.(redact(base)));
        if (credentials) {
          authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
          continue;
        }
      }
      if (response.status === 401 || response.status === 403) {
        const body = await response.text().catch(() => '');
        authorization = undefined;
        throw errors.gitAuthFailed(`${response.status} from ${redact(base)}${body ? `: ${body.trim().slice(0, 200)}` : ''}`);
      }
      if (!response.ok) {
        const body = await response.text().catch(() => '');
        throw errors.gitUnavailable(
          `${init.method} ${redact(base)}${path.split('?')[0]} answered ${response.status}${body ? `: ${body.trim().slice(0, 200)}` : ''}`,
        );
      }
      const type = response.headers.get('content-type') ?? '';
      if (type !== init.accept) {
        // A dumb-HTTP server or a login page: not a smart git endpoint.
        throw errors.gitUnavailable(`${redact(base)} is not a smart-HTTP git remote (content-type ${type || 'none'})`);
      }
      if (init.onChunk) {
        try {
          for await (const chunk of response.body as AsyncIterable<Uint8Array>) init.onChunk(chunk);
        } catch (error) {
          if (isAppError(error)) throw error;
          throw errors.gitUnavailable(`reading the answer of ${redact(base)}${path.split('?')[0]} failed: ${(error as Error).message}`, error);
        }
        return new Uint8Array(0);
      }
      try {
        return new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        // The connection closed mid-answer ("other side closed"): the remote went away.
        throw errors.gitUnavailable(`reading the answer of ${redact(base)}${path.split('?')[0]} failed: ${(error as Error).message}`, error);
      }
    }
  }

  /** Demultiplexes side-band-64k: band 1 data, 2 messages (hooks' output), 3 fatal error. */
  function demux(buffer: Uint8Array, start: number, messages: string[] = []): Uint8Array {
    const data: Uint8Array[] = [];
    for (const { line } of readPktLines(buffer, start)) {
      if (line === null) break;
      const band = line[0];
      if (band === 1) data.push(line.subarray(1));
      else if (band === 2)
        messages.push(
          ...decoder
            .decode(line.subarray(1))
            .split(/[\r\n]+/)
            .filter((m) => m.trim() !== ''),
        );
      else if (band === 3) throw errors.gitUnavailable(`the remote failed: ${text(line.subarray(1))}`);
    }
    return concat(data);
  }

  return {
    async listRefs(service) {
      const body = await send(`/info/refs?service=${service}`, {
        method: 'GET',
        accept: `application/x-${service}-advertisement`,
      });
      const refs = new Map<string, string>();
      const capabilities = new Set<string>();
      let first = true;
      for (const { line } of readPktLines(body)) {
        if (line === null) continue;
        const value = text(line);
        if (value.startsWith('# service=')) continue;
        const [refPart, caps] = value.split('\0');
        if (first && caps !== undefined) for (const c of caps.split(' ')) if (c) capabilities.add(c);
        first = false;
        const [oid, name] = (refPart ?? '').split(' ');
        if (!oid || !name || name === 'capabilities^{}') continue;
        refs.set(name, oid);
      }
      const symref = [...capabilities].find((c) => c.startsWith('symref=HEAD:'));
      return { refs, capabilities, ...(symref ? { head: symref.slice('symref=HEAD:'.length) } : {}) };
    },

    async fetchPack({ wants, haves, onData }) {
      if (wants.length === 0) return;
      const lines: Uint8Array[] = [];
      wants.forEach((oid, i) => lines.push(pktLine(i === 0 ? `want ${oid} side-band-64k ofs-delta no-progress agent=${userAgent}\n` : `want ${oid}\n`)));
      lines.push(FLUSH);
      for (const oid of haves) lines.push(pktLine(`have ${oid}\n`));
      lines.push(pktLine('done\n'));
      // Without multi_ack the answer to `done` is one ACK or NAK line, then the side-band pack,
      // demultiplexed as it streams in.
      const demuxer = createFetchDemuxer(onData);
      await send('/git-upload-pack', {
        method: 'POST',
        body: concat(lines),
        contentType: 'application/x-git-upload-pack-request',
        accept: 'application/x-git-upload-pack-result',
        onChunk: (chunk) => demuxer.push(chunk),
      });
      if (!demuxer.sawData) throw errors.gitUnavailable('the remote answered the fetch without a pack');
    },

    async receivePack({ commands, pack }) {
      const lines: Uint8Array[] = [];
      commands.forEach((c, i) => lines.push(pktLine(`${c.old} ${c.new} ${c.ref}${i === 0 ? `\0report-status side-band-64k quiet agent=${userAgent}` : ''}\n`)));
      lines.push(FLUSH);
      if (pack) lines.push(pack);
      const body = await send('/git-receive-pack', {
        method: 'POST',
        body: concat(lines),
        contentType: 'application/x-git-receive-pack-request',
        accept: 'application/x-git-receive-pack-result',
      });
      const messages: string[] = [];
      const report = demux(body, 0, messages);
      const results: RefUpdateResult[] = [];
      let unpack: string | undefined;
      for (const { line } of readPktLines(report)) {
        if (line === null) break;
        const value = text(line);
        if (value.startsWith('unpack ')) unpack = value.slice('unpack '.length);
        else if (value.startsWith('ok ')) results.push({ ref: value.slice(3), ok: true });
        else if (value.startsWith('ng ')) {
          const rest = value.slice(3);
          const space = rest.indexOf(' ');
          results.push({ ref: rest.slice(0, space), ok: false, reason: rest.slice(space + 1) });
        }
      }
      if (unpack !== undefined && unpack !== 'ok') {
        return { results: commands.map((c) => ({ ref: c.ref, ok: false, reason: `unpack failed: ${unpack}` })), messages };
      }
      for (const c of commands) {
        if (!results.some((r) => r.ref === c.ref)) results.push({ ref: c.ref, ok: false, reason: 'no status reported by the remote' });
      }
      return { results, messages };
    },
  };
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

/** The URL without credentials or query, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return '<invalid url>';
  }
}
