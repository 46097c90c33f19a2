// The OpenAPI document, generated from the route schemas by @fastify/swagger, and Swagger UI at
// /docs. Shared schemas with an `$id` become named components. What every answer carries (set by
// app-wide hooks rather than by a route) is added to the document here, once.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { RETRY_AFTER_SECONDS } from './error-handler.js';
import { EXAMPLE } from './example-values.js';
import { problemExamples } from './problem-examples.js';

export const API_VERSION = '2.0.0';

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mir — multi-instance releases',
        version: API_VERSION,
        description:
          'Which release of each protected app and workflow is live on each instance, through one git repository. ' +
          "Wire-compatible with Retool's Source Control API (v2) under /api/v2/source_control.",
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the document is served by each mir at /openapi.json, so its paths are on the host
      // that served it (OpenAPI 3.1 §4.8.5). No deployment's URL is known to the committed file.
      servers: [{ url: '/', description: 'The mir that serves this document' }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (mir_…)' } },
        headers: {
          RequestId: {
            description:
              "The request id: the caller's own `x-request-id` when it is 1–128 of A-Z a-z 0-9 . _ : -, else a new UUID. Logged with the request; quote it when reporting a 5xx.",
            schema: { type: 'string' },
            example: EXAMPLE.requestId,
          },
          RetryAfter: {
            description: 'Seconds to wait before trying again (RFC 9110 §10.2.3)',
            schema: { type: 'integer', minimum: 0 },
            example: RETRY_AFTER_SECONDS,
          },
        },
        examples: problemExamples(),
      },
      tags: [
        { name: 'Operations', description: 'Health, readiness, metrics' },
        { name: 'Tokens', description: 'API tokens (admin)' },
        { name: 'Audit', description: 'The audit trail (admin)' },
        { name: 'Manifests', description: "Release manifests (Retool's Source Control API)" },
        { name: 'Releases', description: "Releases and artifacts (Retool's Source Control API), the release matrix, batch publish" },
        { name: 'Hotfixes', description: 'Hotfix lines: patch a major.minor release line from a hotfix/<uuid>/<X.Y> branch' },
        { name: 'Instances', description: 'Deployment instances, the manifest each follows, and what each must run now' },
        { name: 'Deployments', description: 'What each instance reports it deployed, and how that drifts from what its manifest sets' },
        { name: 'Promotion', description: 'Compare two manifests, promote one to another, roll back with a hold' },
        { name: 'Holds', description: 'Release versions held after a rollback: listed by readers, lifted by admins' },
        { name: 'Pull requests', description: 'Every change is a branch plus a pull request; merges re-apply the intent' },
        { name: 'Webhooks', description: "Forges' pull request events (merged, closed), verified by each forge's own proof" },
        { name: 'Event webhooks', description: 'Outbound: events mir sends, signed, at least once, to the URLs subscribed (admin)' },
      ],
    },
    // Name components after their `$id` rather than def-0, def-1…
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (document) =>
      'openapiObject' in document
        ? (describeAnswers(optionalWhereDefaulted(document.openapiObject as Document)) as typeof document.openapiObject)
        : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

interface Response {
  headers?: Record<string, unknown>;
  content?: unknown;
}
interface Operation {
  parameters?: { in: string; required?: boolean; schema?: { default?: unknown } }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { anyOf?: { type?: unknown }[] } }> };
  responses?: Record<string, Response>;
}
interface Document {
  paths?: Record<string, Record<string, Operation>>;
  components?: { examples?: Record<string, unknown> };
}

/**
 * What a client may leave out, said so: TypeBox lists a property with a default as required (Ajv
 * fills the default in, so handlers always see it), and a body that may be null as a required
 * body. Generated clients read `required` literally and refused calls the server takes
 * (`listTokens()` without `include_revoked`, a publish without `dry_run`).
 */
function optionalWhereDefaulted(document: Document): Document {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path' && parameter.schema?.default !== undefined) delete parameter.required;
      }
      const body = operation.requestBody;
      const schema = body?.content?.['application/json']?.schema;
      if (body && schema?.anyOf?.some((branch) => branch.type === 'null')) body.required = false;
    }
  }
  return document;
}

/**
 * What every answer carries, said on each: `x-request-id` (src/app.ts sets it on every reply),
 * `Retry-After` on a 503 (src/http/error-handler.ts). And a 304 has no body (RFC 9110 §15.4.5),
 * though its route schema must stay an empty one rather than `null` (see `notModified`).
 */
function describeAnswers(document: Document): Document {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        response.headers = {
          ...response.headers,
          'x-request-id': { $ref: '#/components/headers/RequestId' },
          ...(status === '503' ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}),
        };
        if (status === '304') delete response.content;
      }
    }
  }
  // One example per catalog code is registered; those no operation sends (route_not_found…) go.
  const paths = JSON.stringify(document.paths ?? {});
  if (document.components?.examples) {
    const used = Object.entries(document.components.examples).filter(([name]) => paths.includes(`"#/components/examples/${name}"`));
    document.components.examples = Object.fromEntries(used);
  }
  return document;
}
