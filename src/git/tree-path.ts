// Which relative paths a tree may hold: the rule every writer of a tree or an archive shares.

/**
 * Why `path` is not a safe relative path inside the repository, or null when it is. "Safe" means
 * every consumer resolves it to the same place on every platform: no way out (`..`, absolute,
 * drive letters, backslashes that Windows reads as separators), no ambiguity (`.`, empty
 * segments), nothing a filesystem or terminal mangles (NUL, control characters) and no `.git`
 * segment in any case (git refuses those; case-insensitive filesystems make `.GIT` one too).
 */
export function relativePathProblem(path: string): string | null {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL character';
  if (/[\u0001-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.includes('\\')) return 'contains a backslash';
  // Lone surrogates have no UTF-8 encoding: two different strings would become the same bytes.
  if (/\p{Cs}/u.test(path)) return 'is not well-formed Unicode';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '..') return 'has a .. segment';
    if (segment === '.') return 'has a . segment';
    if (segment.toLowerCase() === '.git') return 'has a .git segment';
  }
  return null;
}
