// The dashboard's event-stream reader (ui/src/sse.ts) in Node: the text/event-stream parser on
// chunks split anywhere, and the reconnecting reader resuming with the last event id.
import t from 'tap';
import { followStream, SseParser, StreamRefused, type SseEvent, type StreamStatus } from '../../ui/src/sse.js';

const STREAM =
  ': keep-alive\n\n' +
  'id: 1\nevent: pull_request.opened\ndata: {"id":1,"type":"pull_request.opened"}\n\n' +
  'id: 2\r\nevent: manifest.changed\r\ndata: line one\r\ndata: line two\r\n\r\n' +
  'data:no space\rid: 3\r\r' +
  'event: ignored-without-data\n\n' +
  'retry: 2500\nid: 4\nevent: reset\ndata: {}\n\n' +
  'data: unfinished';

const EXPECTED: SseEvent[] = [
  { id: '1', event: 'pull_request.opened', data: '{"id":1,"type":"pull_request.opened"}' },
  { id: '2', event: 'manifest.changed', data: 'line one\nline two' },
  { id: '3', event: 'message', data: 'no space' },
  { id: '4', event: 'reset', data: '{}' },
];

t.test('the parser: fields, comments, CR, LF and CRLF, multi-line data, ids and retry', async (t) => {
  const whole = new SseParser();
  t.same(whole.push(STREAM), EXPECTED, 'in one chunk');
  t.equal(whole.lastEventId, '4');
  t.equal(whole.retryMs, 2500);
  t.same(whole.push('\n\n'), [{ id: '4', event: 'message', data: 'unfinished' }], 'the unfinished event completes with its blank line');

  // Every split point, including between the CR and LF of a CRLF.
  for (let at = 0; at <= STREAM.length; at++) {
    const parser = new SseParser();
    const events = [...parser.push(STREAM.slice(0, at)), ...parser.push(STREAM.slice(at))];
    if (JSON.stringify(events) !== JSON.stringify(EXPECTED)) {
      t.fail(`split at ${at}`);
      return;
    }
  }
  const bytewise = new SseParser();
  t.same(
    [...STREAM].flatMap((char) => bytewise.push(char)),
    EXPECTED,
    'one character at a time',
  );
});

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

t.test('the reader reconnects with backoff and Last-Event-ID, and stops on a refusal', async (t) => {
  const opened: (string | undefined)[] = [];
  const waits: number[] = [];
  const events: string[] = [];
  const statuses: StreamStatus['state'][] = [];
  const answers: (() => ReadableStream<Uint8Array>)[] = [
    () => streamOf('id: 7\nevent: a\ndata: x\n\n'),
    () => {
      throw new Error('connection refused');
    },
    () => {
      throw new Error('connection refused');
    },
    // Split mid-line across chunks, ends with the server going away.
    () => streamOf('id: 8\nevent: b\nda', 'ta: y\n\n'),
    () => {
      throw new StreamRefused('401');
    },
  ];
  await new Promise<void>((resolve) => {
    followStream({
      open: async (lastEventId) => {
        opened.push(lastEventId);
        return answers.shift()!();
      },
      onEvent: (event) => events.push(`${event.id}:${event.event}:${event.data}`),
      onStatus: (status) => {
        statuses.push(status.state);
        if (status.state === 'stopped') resolve();
      },
      initialDelayMs: 100,
      maxDelayMs: 250,
      sleep: async (ms) => void waits.push(ms),
    });
  });
  t.same(opened, [undefined, '7', '7', '7', '8'], 'each reconnection resumes after the last event seen');
  t.same(events, ['7:a:x', '8:b:y']);
  t.same(waits, [100, 200, 250, 100], 'backoff doubles up to the ceiling, and starts over after an event');
  t.equal(statuses.at(-1), 'stopped', 'a refusal stops it');
});

t.test('stopping aborts the open stream', async (t) => {
  let aborted = false;
  const stop = followStream({
    open: (_id, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        });
      }),
    onEvent: () => t.fail('no event'),
  });
  stop();
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(aborted, 'the request was aborted');
});
