// Retool's own published OpenAPI for the routes mir is wire-compatible with (a copy of
// ../shared/retool-source-control.openapi.json): every answer to a request valid there must
// validate against its response schema, and every request valid there must be accepted.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv };

interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

const spec = JSON.parse(readFileSync(new URL('../contracts/retool-source-control.openapi.json', import.meta.url), 'utf8')) as Spec;
const ajv = addFormats.default(new Ajv({ strict: false, allErrors: true }));

/**
 * Validates a response body against Retool's schema for `method path` (a path template of the
 * spec, e.g. `/source_control/manifests/{manifestName}`) and status. Retool documents 200 and 400;
 * our other error statuses are checked against its 400 (error) schema. Returns the errors, [] if valid.
 */
export function retoolResponseErrors(method: string, template: string, status: number, body: unknown): string[] {
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`Retool's spec has no ${method} ${template}`);
  const documented = operation.responses[String(status)] ?? (status >= 400 ? operation.responses['400'] : undefined);
  const schema = documented?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`Retool's spec has no ${status} answer for ${method} ${template}`);
  const validate = ajv.compile(schema);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
