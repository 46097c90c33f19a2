// Webhook proofs, compared in constant time: an HMAC-SHA256 of the raw body (GitHub
// X-Hub-Signature-256, Bitbucket X-Hub-Signature, both `sha256=<hex>`), a shared token (GitLab
// X-Gitlab-Token) or basic credentials (Azure DevOps service hooks).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../../errors.js';
import type { WebhookHeaders } from '../types.js';

export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `sha256=<hex>` of the body under `secret`. */
export function hmacSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

export function verifyHmacHeader(provider: string, headers: WebhookHeaders, header: string, rawBody: string, secret: string): void {
  const given = headerValue(headers, header);
  if (!given) throw errors.webhookUnauthorized(provider, `the ${header} header is missing`);
  if (!sameText(given.trim().toLowerCase(), hmacSignature(secret, rawBody)))
    throw errors.webhookUnauthorized(provider, `the ${header} signature does not match the body`);
}

export function verifyTokenHeader(provider: string, headers: WebhookHeaders, header: string, secret: string): void {
  const given = headerValue(headers, header);
  if (!given) throw errors.webhookUnauthorized(provider, `the ${header} header is missing`);
  if (!sameText(given, secret)) throw errors.webhookUnauthorized(provider, `the ${header} token is wrong`);
}

/** Basic credentials with any user name and `secret` as the password. */
export function verifyBasicPassword(provider: string, headers: WebhookHeaders, secret: string): void {
  const given = headerValue(headers, 'authorization');
  const match = given ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(given) : null;
  if (!match) throw errors.webhookUnauthorized(provider, 'basic credentials are missing');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || !sameText(decoded.slice(colon + 1), secret)) throw errors.webhookUnauthorized(provider, 'the basic credentials are wrong');
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/** A full commit sha, or null (forges sometimes send abbreviations). */
export function fullSha(value: unknown): string | null {
  return typeof value === 'string' && FULL_SHA.test(value) ? value : null;
}
