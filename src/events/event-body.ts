// The one shape of an event outside mir: the body of a webhook delivery (src/events/dispatcher.ts)
// and the `data:` of an event on the stream (src/events/event-stream.ts), so a client that handles
// one handles the other.
export interface EventBody {
  readonly id: string;
  readonly type: string;
  readonly occurred_at: string;
  readonly data: Record<string, unknown>;
}

export function eventBody(event: { id: string; type: string; occurred_at: Date; payload: Record<string, unknown> }): EventBody {
  return { id: event.id, type: event.type, occurred_at: event.occurred_at.toISOString(), data: event.payload };
}
