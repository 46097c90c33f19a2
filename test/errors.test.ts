// The error catalog is closed: every code has one status and exactly one factory, nothing in src/
// builds an error outside the catalog, and the README's table is the catalog's.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { README_PATH, withErrorCodes } from '../src/error-codes-doc.js';
import { AppError, ERROR_CODES, errors, hasCode } from '../src/errors.js';

t.test('every catalogued code has exactly one factory, and every factory a catalogued code', async (t) => {
  const factoriesOf = new Map<string, string[]>();
  for (const [name, factory] of Object.entries(errors)) {
    // Arrays stand in for every argument: each factory only formats what it is given.
    const error = (factory as (...args: unknown[]) => unknown)([], [], [], []);
    t.ok(error instanceof AppError, `${name} builds an AppError`);
    const { code, status } = error as AppError;
    t.equal(status, ERROR_CODES[code][0], `${name}: ${code} has its catalogued status`);
    factoriesOf.set(code, [...(factoriesOf.get(code) ?? []), name]);
  }
  for (const code of Object.keys(ERROR_CODES))
    t.same(factoriesOf.get(code)?.length, 1, `${code}: one factory (${factoriesOf.get(code)?.join(', ') ?? 'none'})`);
});

t.test('hasCode tests codes', async (t) => {
  t.ok(hasCode(errors.branchNotFound('x'), 'branch_not_found'));
  t.ok(hasCode(errors.pushRejected('x', 'y'), 'not_fast_forward', 'push_rejected'));
  t.notOk(hasCode(errors.branchExists('x'), 'branch_not_found'));
  t.notOk(hasCode(new Error('branch_not_found'), 'branch_not_found'), 'not for other errors');
});

t.test('src/ builds errors only through the catalog', async (t) => {
  const root = path.resolve('src');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts') && f !== 'errors.ts');
  const offenders: string[] = [];
  for (const file of files) if ((await readFile(path.join(root, file), 'utf8')).includes('new AppError(')) offenders.push(file);
  t.same(offenders, [], 'no `new AppError(` outside src/errors.ts');
});

t.test("README.md's table of error codes is the catalog's", async (t) => {
  const readme = await readFile(README_PATH, 'utf8');
  t.equal(readme, withErrorCodes(readme), 'run `npm run docs:errors` and commit README.md');
});
