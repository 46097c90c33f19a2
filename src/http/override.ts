// The break-glass override a request carries (`Mir-Override-Reason`): only an admin token may send
// one, and it must say why; the gates it lets through are audited with that reason.
import type { FastifyRequest } from 'fastify';
import { errors, invalidField } from '../errors.js';
import { grants } from '../tokens/scopes.js';

/** The reason, when the request carries one (the gates' `Override`). */
export function overrideOf(request: FastifyRequest): { readonly reason: string } | undefined {
  const header = request.headers['mir-override-reason'];
  if (header === undefined) return undefined;
  const reason = (Array.isArray(header) ? header.join(', ') : header).trim();
  if (!reason) throw invalidField('headers.mir-override-reason', 'must say why');
  if (!request.principal || !grants(request.principal.scopes, 'admin')) throw errors.forbidden('admin');
  return { reason };
}
