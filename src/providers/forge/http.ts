// The one HTTP client every forge adapter uses: global fetch, a timeout, and the translation of
// what the forge answers into catalog errors at this boundary — unreachable or 5xx: 503
// provider_unavailable; a refused token: 503 provider_auth_failed; any other refusal (required
// reviews, failing checks, not mergeable): 409 provider_refused with the forge's own reason.
import { errors } from '../../errors.js';

export interface ForgeHttpOptions {
  readonly provider: string;
  /** Without a trailing slash. */
  readonly baseUrl: string;
  /** Sent with every request (authentication, Accept). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface ForgeRequest {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Statuses answered as values instead of errors (e.g. 404 when looking something up). */
  readonly allow?: readonly number[];
}

export interface ForgeResponse<T> {
  readonly status: number;
  readonly body: T;
}

export interface ForgeHttp {
  request<T>(method: string, path: string, options?: ForgeRequest): Promise<ForgeResponse<T>>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function createForgeHttp(options: ForgeHttpOptions): ForgeHttp {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    async request<T>(method: string, path: string, request: ForgeRequest = {}): Promise<ForgeResponse<T>> {
      const url = new URL(options.baseUrl + path);
      for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
      const headers: Record<string, string> = { ...options.headers };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'follow',
        });
      } catch (error) {
        throw errors.providerUnavailable(options.provider, `${method} ${url.pathname}: ${describeFetchError(error)}`, error);
      }
      const text = await response.text().catch(() => '');
      const body = parseBody(text);
      if (response.ok || request.allow?.includes(response.status)) return { status: response.status, body: body as T };
      const reason = forgeReason(body, text) || response.statusText || `HTTP ${response.status}`;
      if (response.status === 401) throw errors.providerAuthFailed(options.provider, `${response.status} ${reason}`);
      if (response.status >= 500 || response.status === 429) {
        throw errors.providerUnavailable(options.provider, `${method} ${url.pathname} answered ${response.status}: ${reason}`);
      }
      throw errors.providerRefused(options.provider, reason, response.status);
    },
  };
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The forge's own words: GitHub/GitLab/Azure `message`, Bitbucket `error.message`, GitLab `error`, validation details. */
export function forgeReason(body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const parts: string[] = [];
    const message = record.message;
    if (typeof message === 'string') parts.push(message);
    else if (message && typeof message === 'object') parts.push(JSON.stringify(message));
    const error = record.error;
    if (typeof error === 'string') parts.push(error);
    else if (error && typeof error === 'object' && typeof (error as Record<string, unknown>).message === 'string') {
      parts.push((error as Record<string, unknown>).message as string);
    }
    // GitHub validation failures list what was wrong.
    if (Array.isArray(record.errors)) {
      for (const item of record.errors) {
        if (item && typeof item === 'object' && typeof (item as Record<string, unknown>).message === 'string')
          parts.push((item as Record<string, unknown>).message as string);
      }
    }
    if (parts.length > 0) return parts.join(': ').slice(0, 1000);
  }
  return text.trim().slice(0, 300);
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer in time';
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
