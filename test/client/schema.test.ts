import { readFile } from 'node:fs/promises';
import t from 'tap';
import { CLIENT_TYPES_PATH, generateClientTypes, OPENAPI_DOCUMENT_PATH } from '../../scripts/client-types.js';

t.test('src/client/schema.d.ts is what `npm run openapi` generates from openapi/openapi.json', async (t) => {
  const committed = await readFile(CLIENT_TYPES_PATH, 'utf8');
  const generated = await generateClientTypes(await readFile(OPENAPI_DOCUMENT_PATH, 'utf8'));
  t.equal(committed, generated, 'run `npm run openapi` and commit the result');
});
