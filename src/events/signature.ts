// How a delivery proves it comes from mir, in the manner of GitHub's X-Hub-Signature-256 with a
// timestamp in the signed bytes (so a captured delivery cannot be replayed later as new):
//   X-Mir-Timestamp: <unix seconds>
//   X-Mir-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
// A receiver recomputes it over the raw body, compares in constant time, and refuses a timestamp
// too far from its clock (README → Outbound webhooks has a receiver).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-mir-signature-256';
export const TIMESTAMP_HEADER = 'x-mir-timestamp';
export const EVENT_HEADER = 'x-mir-event';
export const EVENT_ID_HEADER = 'x-mir-event-id';
export const DELIVERY_HEADER = 'x-mir-delivery';

export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Whether `signature` is the one of `body` at `timestamp`, and the timestamp within `toleranceSeconds` of `now`. */
export function verify(secret: string, headers: { timestamp: string; signature: string }, body: string, now: Date, toleranceSeconds = 300): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isSafeInteger(timestamp) || Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
