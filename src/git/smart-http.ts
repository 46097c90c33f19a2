// Git's smart HTTP protocol (v0/v1, stateless RPC), spoken directly:
// https://git-scm.com/docs/http-protocol, https://git-scm.com/docs/pack-protocol.
// Why not git.push / git.fetch: isomorphic-git's push walks the whole history to find what to send,
// and its fetch of a branch not present locally sends no `have`s and downloads the whole pack
// (docs/architecture.md has the figures). Here a push sends exactly the objects the gateway wrote,
// and a fetch offers every local branch tip as a `have`, so only new objects travel.
import { errors, isAppError } from '../errors.js';
import { concat, createFetchDemuxer, decoder, FLUSH, pktLine, readPktLines, text } from './pkt-line.js';

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

/** How fetch() reports a connection the other side closed or reset before answering. */
const CONNECTION_RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

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
    let resetRetried = false;
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
        // A kept-alive connection the remote closed as we reused it (its idle timeout and our
        // request crossing) resets before any answer. Reads (the ref list, a fetch) are asked
        // once more on a new connection; a push is not, as the remote may have received it.
        const read = init.method === 'GET' || path === '/git-upload-pack';
        if (read && !resetRetried && CONNECTION_RESETS.has(cause?.code ?? '')) {
          resetRetried = true;
          continue;
        }
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
