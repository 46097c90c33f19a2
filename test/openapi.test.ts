import { readFile } from 'node:fs/promises';
import t from 'tap';
import { generateOpenApiDocument, OPENAPI_PATH } from '../src/openapi-document.js';
import { buildTestApp } from './helpers/app.js';

t.test('openapi/openapi.json is what `npm run openapi` generates from the routes', async (t) => {
  const committed = await readFile(OPENAPI_PATH, 'utf8');
  const generated = await generateOpenApiDocument();
  t.equal(committed, generated, 'run `npm run openapi` and commit the result');
});

t.test('every documented operation has an operationId, tags, a summary and typed responses', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          operationId?: string;
          tags?: string[];
          summary?: string;
          security?: unknown;
          responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
        }
      >
    >;
  };
  const ids = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path}`;
      t.ok(operation.operationId, `${name} has an operationId`);
      t.notOk(ids.has(operation.operationId!), `${name}: operationId is unique`);
      ids.add(operation.operationId!);
      t.ok(operation.tags?.length, `${name} has tags`);
      t.ok(operation.summary, `${name} has a summary`);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        t.ok(
          Object.values(response.content ?? {}).some((c) => c.schema),
          `${name} ${status} has a schema`,
        );
      }
      if (operation.security) t.ok(operation.responses?.['401'] && operation.responses?.['403'], `${name} documents 401 and 403`);
    }
  }
  t.ok(ids.has('createToken') && ids.has('getReadiness'));
});

t.test('what a client may leave out is not required: parameters with a default, bodies that may be absent', async (t) => {
  type Parameter = { name: string; in: string; required?: boolean; schema?: { default?: unknown } };
  type Operation = { parameters?: Parameter[]; requestBody?: { required?: boolean; content?: Record<string, { schema?: { anyOf?: { type?: unknown }[] } }> } };
  const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, Operation>> };
  let defaulted = 0;
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default === undefined) continue;
        defaulted++;
        t.notOk(parameter.required, `${method.toUpperCase()} ${path}: ${parameter.in} ${parameter.name} has a default, so it is optional`);
      }
      const body = operation.requestBody;
      if (body?.content?.['application/json']?.schema?.anyOf?.some((branch) => branch.type === 'null')) {
        t.equal(body.required, false, `${method.toUpperCase()} ${path}: its body may be absent`);
      }
    }
  }
  t.ok(defaulted >= 17, `the document has parameters with defaults (${defaulted})`);

  // And the server agrees: a write without dry_run, a list without include_revoked.
  const ctx = await buildTestApp(t);
  const tokens = await ctx.app.inject({ method: 'GET', url: '/api/v2/tokens', headers: ctx.auth() });
  t.equal(tokens.statusCode, 200);
});

t.test('/openapi.json and /docs are served', async (t) => {
  const ctx = await buildTestApp(t);
  const doc = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(doc.statusCode, 200);
  t.equal(doc.json().openapi, '3.1.0');
  const docs = await ctx.app.inject({ method: 'GET', url: '/docs/' });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger/i);
});
