// The subset of pino that the gateway, start-up and background work log through (a Fastify or
// pino logger satisfies it), so those modules take a logger without depending on pino.
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
