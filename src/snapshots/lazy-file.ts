// A repository file parsed on first use, once per blob: its bytes are kept until then and
// dropped after, and a parse that fails with a 422 is kept as the file's FileParseError (what a
// snapshot reports for a manifest or protected list that does not parse) rather than thrown.
import { isAppError } from '../errors.js';
import type { FileParseError } from './snapshot.js';

const decoder = new TextDecoder();

export type Parsed<T> = { value: T; error?: undefined } | { value?: undefined; error: FileParseError };

function toRepoFileError(path: string, error: unknown): FileParseError {
  if (isAppError(error) && error.status === 422) {
    const d = error.details as { path?: unknown; line?: unknown; reason?: unknown };
    return {
      path: typeof d.path === 'string' ? d.path : path,
      ...(typeof d.line === 'number' ? { line: d.line } : {}),
      reason: typeof d.reason === 'string' ? d.reason : error.message,
    };
  }
  throw error;
}

/** A file parsed on first call, then its bytes forgotten; `sliced` parses it yielding to the event loop. */
export interface Lazy<T> {
  (): Parsed<T>;
  sliced(): Promise<Parsed<T>>;
}

export function lazy<T>(
  path: string,
  bytes: Uint8Array,
  parse: (text: string, path: string) => T,
  count: () => void,
  parseSliced: (text: string, path: string) => Promise<T> = async (text) => parse(text, path),
): Lazy<T> {
  let source: Uint8Array | undefined = bytes;
  let result: Parsed<T> | undefined;
  // One sliced parse however many requests ask for it meanwhile.
  let parsing: Promise<Parsed<T>> | undefined;
  const settle = (value: T): Parsed<T> => {
    source = undefined;
    return (result ??= { value });
  };
  const fail = (error: unknown): Parsed<T> => {
    source = undefined;
    return (result ??= { error: toRepoFileError(path, error) });
  };
  const now = () => {
    if (result) return result;
    count();
    try {
      return settle(parse(decoder.decode(source), path));
    } catch (error) {
      return fail(error);
    }
  };
  return Object.assign(now, {
    sliced() {
      if (result) return Promise.resolve(result);
      if (!parsing) {
        count();
        parsing = parseSliced(decoder.decode(source), path).then(settle, fail);
        // Not a file error (those settle): the next call tries again, as the synchronous path does.
        parsing.catch(() => (parsing = undefined));
      }
      return parsing;
    },
  });
}
