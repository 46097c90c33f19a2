// `npm run openapi`, second step: writes src/client/schema.d.ts from openapi/openapi.json.
import { readFile, writeFile } from 'node:fs/promises';
import { CLIENT_TYPES_PATH, generateClientTypes, OPENAPI_DOCUMENT_PATH } from './client-types.js';

await writeFile(CLIENT_TYPES_PATH, await generateClientTypes(await readFile(OPENAPI_DOCUMENT_PATH, 'utf8')));
process.stdout.write(`wrote ${CLIENT_TYPES_PATH.pathname}\n`);
