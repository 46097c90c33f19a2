// `npm run docs:errors`: rewrites the README's table of error codes from the catalog.
import { readFile, writeFile } from 'node:fs/promises';
import { README_PATH, withErrorCodes } from '../src/error-codes-doc.js';

await writeFile(README_PATH, withErrorCodes(await readFile(README_PATH, 'utf8')));
process.stdout.write(`wrote the error codes into ${README_PATH.pathname}\n`);
