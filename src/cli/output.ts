// What a command prints: with --json, the API's answer (the envelope's `data`) as JSON on stdout
// and nothing else there; otherwise tables and `key  value` lines for people. Progress and
// warnings go to stderr either way, so stdout stays parseable.

export interface Streams {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface Output {
  readonly json: boolean;
  /** The machine answer (--json), or the human rendering. */
  result(value: unknown, human: () => string): void;
  /** A line on stderr before something that waits (a push, a merge), unless --quiet. */
  progress(text: string): void;
  warn(text: string): void;
}

export function createOutput(streams: Streams, options: { json: boolean; quiet: boolean }): Output {
  return {
    json: options.json,
    result(value, human) {
      if (options.json) streams.stdout(`${JSON.stringify(value, null, 2)}\n`);
      else {
        const text = human();
        streams.stdout(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
    progress(text) {
      if (!options.quiet) streams.stderr(`mir: ${text}…\n`);
    },
    warn(text) {
      streams.stderr(`mir: warning: ${text}\n`);
    },
  };
}

/** Columns padded to their widest cell, two spaces apart; a header row in capitals. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

export type FieldEntry = readonly [string, string | number | null | undefined];

/** `key  value` lines, keys padded; entries whose value is undefined are left out, null shows as —. */
export function fields(entries: readonly FieldEntry[]): string {
  const shown = entries.filter((e): e is readonly [string, string | number | null] => e[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${v ?? '—'}`).join('\n');
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 12) : '—';
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}
