// The OpenAPI document, generated from the route schemas by @fastify/swagger, and Swagger UI at
// /docs. Shared schemas with an `$id` become named components.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

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
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (mir_…)' } },
      },
      tags: [
        { name: 'Operations', description: 'Health, readiness, metrics' },
        { name: 'Tokens', description: 'API tokens (admin)' },
        { name: 'Audit', description: 'The audit trail (admin)' },
        { name: 'Manifests', description: "Release manifests (Retool's Source Control API)" },
        { name: 'Releases', description: "Releases and artifacts (Retool's Source Control API), the release matrix, batch publish" },
        { name: 'Hotfixes', description: 'Hotfix lines: patch a major.minor release line from a hotfix/<uuid>/<X.Y> branch' },
        { name: 'Instances', description: 'Deployment instances, the manifest each follows, and what each must run now' },
        { name: 'Pull requests', description: 'Every change is a branch plus a pull request; merges re-apply the intent' },
      ],
    },
    // Name components after their `$id` rather than def-0, def-1…
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (document) =>
      'openapiObject' in document ? (optionalWhereDefaulted(document.openapiObject as Document) as typeof document.openapiObject) : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

interface Operation {
  parameters?: { in: string; required?: boolean; schema?: { default?: unknown } }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { anyOf?: { type?: unknown }[] } }> };
}
interface Document {
  paths?: Record<string, Record<string, Operation>>;
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
