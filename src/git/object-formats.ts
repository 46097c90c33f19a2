// git's tree and commit objects: their shapes, the parsers of their formats for the reader
// (object-reader.ts) and the renderers for the writer (loose-objects.ts).
import { treeEntryNameProblem } from './tree-path.js';

export interface TreeEntry {
  readonly mode: string;
  readonly path: string;
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit';
}

export interface CommitObject {
  readonly message: string;
  readonly tree: string;
  readonly parent: readonly string[];
  readonly author: { readonly name: string; readonly email: string; readonly timestamp: number; readonly timezoneOffset: number };
  readonly committer: { readonly name: string; readonly email: string; readonly timestamp: number; readonly timezoneOffset: number };
}

export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** git's tree entry format: `<mode> <name>\0<20-byte oid>`, repeated. */
export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > content.length) throw new Error('corrupt tree object');
    const mode = content.toString('latin1', i, space).padStart(6, '0');
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
    entries.push({ mode, path: content.toString('utf8', space + 1, nul), oid: content.toString('hex', nul + 1, nul + 21), type });
    i = nul + 21;
  }
  return entries;
}

function parsePerson(value: string): CommitObject['author'] {
  // "Name <email> 1700000000 +0100"
  const match = /^(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(value);
  if (!match) return { name: value, email: '', timestamp: 0, timezoneOffset: 0 };
  const minutes = Number(match[5]) * 60 + Number(match[6]);
  // isomorphic-git's convention (like Date#getTimezoneOffset): minutes west of UTC.
  return { name: match[1]!, email: match[2]!, timestamp: Number(match[3]), timezoneOffset: match[4] === '+' ? -minutes : minutes };
}

/** git's commit format: header lines (continuations start with a space), a blank line, the message. */
export function parseCommit(content: Buffer): CommitObject {
  const text = content.toString('utf8');
  const blank = text.indexOf('\n\n');
  const head = blank < 0 ? text : text.slice(0, blank);
  const message = blank < 0 ? '' : text.slice(blank + 2);
  let tree = '';
  const parent: string[] = [];
  let author: CommitObject['author'] | undefined;
  let committer: CommitObject['committer'] | undefined;
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue;
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'tree') tree = value;
    else if (key === 'parent') parent.push(value);
    else if (key === 'author') author = parsePerson(value);
    else if (key === 'committer') committer = parsePerson(value);
  }
  if (!/^[0-9a-f]{40}$/.test(tree) || !author || !committer) throw new Error('corrupt commit object');
  return { message, tree, parent, author, committer };
}

/**
 * A tree's content: entries in git's order (name bytes, a folder's name compared as if it ended
 * with `/`), modes without their leading zero (`40000`), as git and isomorphic-git write them.
 */
export function renderTree(entries: readonly TreeEntry[]): Buffer {
  const keyed = entries.map((entry) => {
    const problem = treeEntryNameProblem(entry.path);
    if (problem !== null) throw new TypeError(`tree entry ${JSON.stringify(entry.path)} ${problem}`);
    const mode = entry.mode.replace(/^0+/, '');
    const name = Buffer.from(entry.path, 'utf8');
    return { key: mode === '40000' ? Buffer.concat([name, SLASH]) : name, head: Buffer.from(`${mode} ${entry.path}\0`, 'utf8'), oid: entry.oid };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const entry of keyed) parts.push(entry.head, Buffer.from(entry.oid, 'hex'));
  return Buffer.concat(parts);
}

const SLASH = Buffer.from('/');

function renderPerson(person: CommitObject['author']): string {
  // Minutes west of UTC (isomorphic-git's convention) as git's `+hhmm` east of it; 0 is `+0000`.
  const east = person.timezoneOffset === 0 ? 0 : -person.timezoneOffset;
  const minutes = Math.abs(east);
  const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}`;
  return `${person.name} <${person.email}> ${person.timestamp} ${east < 0 ? '-' : '+'}${hhmm}`;
}

/**
 * A commit's content, byte for byte what isomorphic-git's writeCommit wrote before (so a commit
 * made from the same input has the same id): the message without carriage returns or leading
 * blank lines, ending in exactly one newline.
 */
export function renderCommit(commit: CommitObject): Buffer {
  let text = `tree ${commit.tree}\n`;
  for (const parent of commit.parent) text += `parent ${parent}\n`;
  text += `author ${renderPerson(commit.author)}\ncommitter ${renderPerson(commit.committer)}\n\n`;
  text += `${commit.message.replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '')}\n`;
  return Buffer.from(text, 'utf8');
}
