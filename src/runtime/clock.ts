// The time, injected: services that schedule (webhook retries, drift, last contact) or judge
// (policies) read it here, so tests move it forward instead of sleeping.
export type Clock = () => Date;
