// The events mir sends to webhook subscribers: their names, closed like the error catalog (a
// subscriber switches on `type`, which never changes once shipped).
export const EVENT_TYPES = [
  'pull_request.opened',
  'pull_request.merged',
  'pull_request.closed',
  'pull_request.conflicted',
  'release.created',
  'manifest.changed',
  'instance.bound',
  'deployment.reported',
  'deployment.succeeded',
  'deployment.failed',
  'drift.detected',
  'drift.resolved',
  'hotfix.opened',
  'hotfix.released',
  'hotfix.abandoned',
  'hold.created',
  'hold.lifted',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
