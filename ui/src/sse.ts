// Server-sent events read with fetch, because EventSource cannot send `Authorization`: a parser of
// the text/event-stream format (WHATWG HTML §9.2.6: fields, comments, CR/LF/CRLF line ends split
// anywhere across chunks, `id` kept as the last event id) and a reader that reconnects with
// backoff, resuming with `Last-Event-ID`. No DOM: the unit test runs it in Node.
export interface SseEvent {
  /** `id:` of the event, or the last one seen before it. */
  readonly id: string | undefined;
  /** `event:`; `message` when the event named none. */
  readonly event: string;
  /** The `data:` lines, joined by newlines. */
  readonly data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  /** The last `id:` seen: send it as `Last-Event-ID` when reconnecting. */
  lastEventId: string | undefined;
  /** The last `retry:` the server asked for, in ms. */
  retryMs: number | undefined;

  /** Feeds decoded text; answers the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== '\n' && char !== '\r') continue;
      // A CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (char === '\r' && i === this.buffer.length - 1) break;
      const line = this.buffer.slice(start, i);
      if (char === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const event = this.event || 'message';
    this.event = '';
    if (this.data.length === 0) return undefined;
    const data = this.data.join('\n');
    this.data = [];
    return { id: this.lastEventId, event, data };
  }
}

export interface StreamOptions {
  /** Opens the stream (after `lastEventId`, when set); throws a StreamRefused to stop for good. */
  readonly open: (lastEventId: string | undefined, signal: AbortSignal) => Promise<ReadableStream<Uint8Array>>;
  readonly onEvent: (event: SseEvent) => void;
  /** connecting, open, or waiting (ms until the next try); also `stopped` with the reason. */
  readonly onStatus?: (status: StreamStatus) => void;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** The wait before a retry; tests pass their own. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export type StreamStatus = { state: 'connecting' } | { state: 'open' } | { state: 'waiting'; ms: number } | { state: 'stopped'; reason: string };

/** An answer that retrying will not change (401, 403): the reader stops. */
export class StreamRefused extends Error {
  override readonly name = 'StreamRefused';
}

/** Reads the stream until stopped, reconnecting with doubling backoff; answers the stop function. */
export function followStream(options: StreamOptions): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const status = options.onStatus ?? (() => undefined);
  const parser = new SseParser();
  const run = async () => {
    let delay = initial;
    while (!signal.aborted) {
      status({ state: 'connecting' });
      try {
        const body = await options.open(parser.lastEventId, signal);
        status({ state: 'open' });
        const reader = body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            delay = initial;
            options.onEvent(event);
          }
        }
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof StreamRefused) {
          status({ state: 'stopped', reason: error.message });
          return;
        }
      }
      if (signal.aborted) break;
      const wait = Math.max(parser.retryMs ?? 0, delay);
      status({ state: 'waiting', ms: wait });
      await sleep(wait, signal);
      delay = Math.min(delay * 2, max);
    }
    status({ state: 'stopped', reason: 'closed' });
  };
  void run();
  return () => controller.abort();
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
