// The TypeScript types of the HTTP API, generated from the OpenAPI document by openapi-typescript:
// src/client/schema.d.ts, which types every call of the client (src/client/client.ts). Default
// options, and openapi-typescript's own lint settings rather than a Redocly config found in the
// working directory, so the output depends on the document alone.
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';

/** The committed document (src/openapi-document.ts names it too, but loads the whole app with it). */
export const OPENAPI_DOCUMENT_PATH = new URL('../openapi/openapi.json', import.meta.url);
export const CLIENT_TYPES_PATH = new URL('../src/client/schema.d.ts', import.meta.url);

export async function generateClientTypes(document: string): Promise<string> {
  const nodes = await openapiTS(JSON.parse(document) as OpenAPI3, { silent: true });
  return `${COMMENT_HEADER}${astToString(nodes)}`;
}
