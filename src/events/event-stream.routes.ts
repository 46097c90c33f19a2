// GET /api/v2/source_control/events: the events of the outbound webhooks as a Server-Sent Events
// stream, so an open page (the dashboard at /ui/, or any other) updates when a pull request merges
// elsewhere. The engine is src/events/event-stream.ts; this is its HTTP side.
//
// - Scope source_control:releases_read, by Bearer header like every route. Browsers read the stream
//   with fetch and a streaming body: EventSource cannot send Authorization, and a token must never
//   be in a URL (logs, proxies and browser history keep URLs).
// - Each event is `id: <seq>`, `event: <type>`, `data: <webhook body>`: the id is the outbox seq,
//   so `Last-Event-ID: <seq>` resumes exactly where the client stopped; the body is the webhook's
//   (src/events/event-body.ts), so one handler serves both. `event: reset` says the events since
//   Last-Event-ID are no longer retained: the client reloads its state.
// - The first bytes are `retry:` and a comment, so a client (and any proxy) sees the stream open at
//   once; a `: keep-alive` comment every MIR_EVENTS_HEARTBEAT_SECONDS keeps idle proxies from
//   cutting it, and at each the token is checked again: a revoked or expired token ends the stream.
// - A client that does not read is disconnected once its unsent output passes a bound, rather than
//   buffered without limit; MIR_EVENT_STREAMS_MAX streams per process, past it 503 with Retry-After.
// - The response is written on the raw socket (reply.hijack): Fastify waits for open connections
//   when it closes, so every stream is ended in `preClose`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import Type from 'typebox';
import { invalidField } from '../errors.js';
import { bearerOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, problems } from '../http/schemas.js';
import { grants, type Scope } from '../tokens/scopes.js';
import type { TokenService } from '../tokens/tokens.service.js';
import { eventBody } from './event-body.js';
import { EVENT_TYPES, isEventType, type EventType } from './event-types.js';
import type { EventStreamHub, StreamEvent } from './event-stream.js';

export const EVENTS_PATH = '/api/v2/source_control/events';
const SCOPE: Scope = 'source_control:releases_read';
/** What a client waits before it reconnects (the SSE `retry:` field). */
const RETRY_MS = 3_000;
/** Unsent bytes past which a client that does not read is disconnected. */
const MAX_BUFFERED_BYTES = 1_048_576;

/** One SSE event: `id:`, `event:`, `data:` (JSON has no raw newline, so one data line). */
export function sseEvent(event: StreamEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(eventBody(event))}\n\n`;
}

const STREAM_EXAMPLE = [
  `retry: ${RETRY_MS}`,
  ': mir events',
  '',
  'id: 1042',
  'event: pull_request.merged',
  `data: {"id":"${EXAMPLE.event}","type":"pull_request.merged","occurred_at":"${EXAMPLE.at}","data":{"pull_request":{"number":${EXAMPLE.pullRequest},"title":"Publish PAGE 1.4.2 to prod"}}}`,
  '',
  ': keep-alive',
  '',
  '',
].join('\n');

const RESET_EXAMPLE = [
  `retry: ${RETRY_MS}`,
  ': mir events',
  '',
  'event: reset',
  'data: {"reason":"event 17 is no longer retained (or never existed): reload your state; the stream goes on from now"}',
  '',
  '',
].join('\n');

export function eventStreamRoutes(deps: { stream: EventStreamHub; tokens: TokenService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('preClose', (done) => {
      deps.stream.endAll();
      done();
    });

    app.get(
      EVENTS_PATH,
      {
        config: { scope: SCOPE },
        schema: {
          operationId: 'streamEvents',
          tags: ['Event webhooks'],
          summary: 'Stream events as they happen (Server-Sent Events), resumable with Last-Event-ID',
          description: [
            'The events of the outbound webhooks (README → Outbound webhooks), as a `text/event-stream` that stays open, written by any replica.',
            'Each event is `id: <seq>` (its place in commit order), `event: <type>`, and `data:` the webhook body `{id, type, occurred_at, data}`, then a blank line.',
            'The stream opens with `retry:` and a comment; a `: keep-alive` comment follows every MIR_EVENTS_HEARTBEAT_SECONDS, and the token is checked again each time (a revoked or expired token ends the stream).',
            'Without `Last-Event-ID`: the events committed from now on. With `Last-Event-ID: <seq>`: every retained event after it first, then live, none twice.',
            'If that event is no longer retained (MIR_WEBHOOK_RETENTION_DAYS), one `event: reset` with data `{"reason": …}` comes first: reload your state, the stream goes on from now.',
            'Browsers: read it with fetch and a streaming body (EventSource cannot send Authorization; never put a token in a URL).',
            'A client that stops reading is disconnected; at most MIR_EVENT_STREAMS_MAX streams per process (503 `event_streams_full` past it).',
          ].join(' '),
          security: BEARER_SECURITY,
          headers: Type.Object({
            'last-event-id': Type.Optional(
              Type.String({ description: 'The `id:` of the last event the client received (a decimal seq): resume after it', examples: ['1041'] }),
            ),
          }),
          querystring: Type.Object(
            {
              types: Type.Optional(
                Type.String({
                  description: `Comma-separated event types to receive (all when unset): ${EVENT_TYPES.join(', ')}`,
                  examples: ['pull_request.merged,release.created'],
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: {
              description:
                'The stream: `id:`/`event:`/`data:` blocks separated by blank lines, `:` comments (keep-alive), `event: reset` when Last-Event-ID is no longer retained',
              content: {
                'text/event-stream': {
                  schema: Type.String(),
                  examples: {
                    events: { summary: 'An event and a keep-alive', value: STREAM_EXAMPLE },
                    reset: { summary: 'Resumed too late', value: RESET_EXAMPLE },
                  },
                },
              },
            },
            ...problems(...AUTHENTICATED_ERRORS, 'event_streams_full'),
          },
        },
      },
      async (request, reply) => {
        const after = lastEventId(request.headers['last-event-id']);
        const types = eventTypes(request.query.types);
        const bearer = bearerOf(request);
        const raw: ServerResponse = reply.raw;
        let heartbeat: NodeJS.Timeout | undefined;
        let ended = false;
        let live = false;
        const end = () => {
          if (ended) return;
          // Ended before it went live (the app closing, the outbox unreadable): as a stream that
          // ends, so that EventSource retries after `retry` (an answer without the stream's content
          // type would stop it for good).
          if (!live && !raw.destroyed) goLive();
          ended = true;
          clearInterval(heartbeat);
          slot.close();
          raw.end();
        };
        const slot = deps.stream.reserve(end);
        const write = (text: string) => {
          if (ended) return;
          // A client that does not read: its socket is dropped rather than its output kept.
          if (!raw.write(text) && raw.writableLength > MAX_BUFFERED_BYTES) {
            request.log.info({ buffered: raw.writableLength }, 'event stream client is not reading; disconnected');
            ended = true;
            clearInterval(heartbeat);
            slot.close();
            raw.destroy();
          }
        };
        raw.on('close', end);
        reply.hijack();
        // The 200 goes out once the stream has its place in the outbox (onLive), not before: a
        // client that makes a change as soon as it has the 200 sees the change's events.
        const goLive = () => {
          live = true;
          // The headers the hooks set (x-request-id, CORS) go out with the stream's own.
          raw.writeHead(200, {
            ...(reply.getHeaders() as OutgoingHttpHeaders),
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-store',
            'x-accel-buffering': 'no',
          });
          write(`retry: ${RETRY_MS}\n: mir events\n\n`);
          heartbeat = setInterval(beat, deps.stream.heartbeatMs);
        };
        const beat = () => {
          deps.tokens.authenticate(bearer).then(
            (principal) => {
              if (!principal || principal.instance !== null || !grants(principal.scopes, SCOPE)) {
                write(': the token is revoked or expired\n\n');
                end();
              } else write(': keep-alive\n\n');
            },
            // The database away: the stream stays; the next heartbeat checks again.
            () => write(': keep-alive\n\n'),
          );
        };
        try {
          await slot.start({
            after,
            types,
            onLive: goLive,
            onEvent: (event) => write(sseEvent(event)),
            onReset: (reason) => write(`event: reset\ndata: ${JSON.stringify({ reason })}\n\n`),
          });
        } catch (error) {
          request.log.warn({ err: error }, 'the event stream could not start or replay; closed');
          end();
        }
      },
    );
  };
}

function lastEventId(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header.join(',') : header.trim();
  if (!/^[0-9]{1,15}$/.test(value)) {
    throw invalidField(
      'headers.last-event-id',
      `must be the decimal id of an event (the \`id:\` line of the stream), got ${JSON.stringify(value.slice(0, 40))}`,
    );
  }
  return Number(value);
}

function eventTypes(query: string | undefined): ReadonlySet<EventType> | null {
  if (query === undefined) return null;
  const listed = query
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  const unknown = listed.filter((type) => !isEventType(type));
  if (unknown.length > 0) throw invalidField('query.types', `has unknown event types: ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`);
  if (listed.length === 0) throw invalidField('query.types', 'must name at least one event type');
  return new Set(listed as EventType[]);
}
