// The yaml Document of a repository file, with the 1-based line of any offset or node, for the
// `{path, line, reason}` of 422 answers. Shared by manifests and protected lists.
import { type Document, LineCounter, type Node, parseDocument } from 'yaml';

export interface DocumentWithLines {
  readonly doc: Document;
  /** The line of a source offset (1 when unknown). */
  lineAt(offset: number | undefined): number;
  /** The line where a node starts (1 when unknown). */
  lineOfNode(node: unknown): number;
}

/** Parses `source`; the first yaml error goes to `fail` with its line. */
export function parseWithLines(source: string, fail: (line: number, reason: string) => never): DocumentWithLines {
  const lineCounter = new LineCounter();
  // prettyErrors off: the reason stays one line; the line number comes from the line counter.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const lineOfNode = (node: unknown): number => lineAt((node as Node | null)?.range?.[0]);
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) fail(lineAt(yamlError.pos[0]), `invalid YAML: ${yamlError.message}`);
  return { doc, lineAt, lineOfNode };
}

/** Bytes as UTF-8 text; `onError` for anything that is not valid UTF-8. */
export function decodeUtf8(text: string | Uint8Array, onError: () => never): string {
  if (typeof text === 'string') return text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    return onError();
  }
}
