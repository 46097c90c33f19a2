import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
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
          description:
            'Every change made through mir, recorded in the same transaction as the change: who (`actor`), what (`action`, e.g. manifest.entry.set, release.create, pull_request.merge, token.revoke), on what (`target`, e.g. manifest:prod, instance:prod-eu), with its details and the request id.',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              target: Type.Optional(Type.String({ maxLength: 300, description: 'Only events on this target, e.g. manifest:prod' })),
              action: Type.Optional(Type.String({ maxLength: 100, description: 'Only events of this action, e.g. pull_request.merge' })),
              limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(Type.Object({ events: Type.Array(Type.Ref('AuditEvent')) }), {
              description: 'The events, newest first',
              example: {
                success: true,
                data: {
                  events: [
                    {
                      id: '1841',
                      occurred_at: EXAMPLE.later,
                      actor: EXAMPLE.actor,
                      action: 'pull_request.merge',
                      target: `pull_request:${EXAMPLE.pullRequest}`,
                      details: { merge_commit: EXAMPLE.mergeCommit, branch: 'mir/manifest/prod/71ek0kn8', token_id: EXAMPLE.token },
                      request_id: EXAMPLE.requestId,
                    },
                  ],
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
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
