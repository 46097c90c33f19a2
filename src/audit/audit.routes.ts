import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BEARER_SECURITY } from '../http/auth.js';
import { AUTHENTICATED_ERRORS, envelope, ok, problems } from '../http/schemas.js';
import type { AuditService } from './audit.service.js';

const AuditEventView = Type.Object(
  {
    id: Type.String(),
    occurred_at: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    action: Type.String(),
    target: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
    request_id: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'AuditEvent' },
);

export const auditSchemas = [AuditEventView];

export function auditRoutes(deps: { audit: AuditService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v2/audit_events',
      {
        config: { scope: 'admin' },
        schema: {
          operationId: 'listAuditEvents',
          tags: ['Audit'],
          summary: 'The audit trail, newest first',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              target: Type.Optional(Type.String({ maxLength: 300 })),
              action: Type.Optional(Type.String({ maxLength: 100 })),
              limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: envelope(Type.Object({ events: Type.Array(Type.Ref('AuditEvent')) })), ...problems(...AUTHENTICATED_ERRORS) },
        },
      },
      async (request) => {
        const rows = await deps.audit.list(request.query);
        return ok({
          events: rows.map((row) => ({
            id: String(row.id),
            occurred_at: row.occurred_at.toISOString(),
            actor: row.actor,
            action: row.action,
            target: row.target,
            details: row.details,
            request_id: row.request_id,
          })),
        });
      },
    );
  };
}
