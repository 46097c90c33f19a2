// `npm run openapi`: writes openapi/openapi.json from the built app's route schemas.
import { writeFile } from 'node:fs/promises';
import { generateOpenApiDocument, OPENAPI_PATH } from '../src/openapi-document.js';

await writeFile(OPENAPI_PATH, await generateOpenApiDocument());
process.stdout.write(`wrote ${OPENAPI_PATH.pathname}\n`);
