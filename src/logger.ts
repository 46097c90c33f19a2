// pino, with secrets redacted wherever they may appear: request headers, token fields, and the
// configuration's credentials. https://getpino.io/#/docs/redaction
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-gitlab-token"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-hub-signature-256"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'body.token',
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'git.token',
  '*.git.token',
  'provider.token',
  '*.provider.token',
  'webhookSecret',
  '*.webhookSecret',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
      base: { service: 'mir' },
      serializers: { req: serializeRequest, res: serializeResponse, err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  ip?: string;
  routeOptions?: { url?: string };
}

// Headers are logged (they tell who called and how), which is why the redaction above matters.
function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: request.url,
    route: request.routeOptions?.url,
    headers: request.headers,
    remote_address: request.ip,
  };
}

function serializeResponse(reply: { statusCode: number }) {
  return { status: reply.statusCode };
}

export type { Logger };
