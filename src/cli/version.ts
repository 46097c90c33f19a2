// This package's version, for `mir --version` and the User-Agent. The CLI runs from src/cli (tsx)
// and from build/src/cli (the bin): the nearest package.json of this package is found either way.
import { readFileSync } from 'node:fs';

export function packageVersion(from: URL = new URL('.', import.meta.url)): string {
  for (let dir = from; ; dir = new URL('..', dir)) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'multi-instance-releases' && 'version' in pkg) return String(pkg.version);
    } catch {
      // no package.json here: one folder up
    }
    if (dir.pathname === '/') return 'unknown';
  }
}
