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

/**
 * Why `name` cannot be one entry of a tree, or null when it can: the names git itself refuses to
 * check out (and isomorphic-git, which wrote our trees before, refused to write) — a separator,
 * `.git` or a name Windows or macOS reads as it (`.GIT`, `git~1`, `.git.`, `.git::$DATA`, with
 * ignorable Unicode in it), and names of only dots and spaces.
 */
export function treeEntryNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (name.includes('\0')) return 'contains a NUL character';
  const visible = name.replace(/[\u200C-\u200F\u202A-\u202E\u206A-\u206F\uFEFF]/g, '');
  const stream = visible.split(':')[0]!;
  let end = stream.length;
  while (end > 0 && (stream[end - 1] === '.' || stream[end - 1] === ' ')) end--;
  const normalized = stream.slice(0, end).toLowerCase();
  if (normalized === '' && stream !== '') return 'is only dots and spaces';
  if (normalized === '.git' || /^\.?git~[1-9]$/.test(normalized)) return "names git's own folder";
  return null;
}
