// The time, injected: services that schedule (webhook retries, drift, last contact) read it here,
// so tests move it forward instead of sleeping.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
