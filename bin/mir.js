#!/usr/bin/env node
// The `mir` bin (package.json). In a checkout — src/ beside it and tsx, a dev dependency, installed —
// it runs the TypeScript source through tsx, so `npx mir` needs no build and never runs a stale one.
// An install without them (the container image, `npm install --omit=dev`) runs the build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);

function resolvable(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && resolvable('tsx/esm/api')) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../build/src/cli/main.js');
}
