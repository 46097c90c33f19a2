// bench/RESULTS.md: each benchmark owns one section, between `<!-- name -->` markers, replaced
// on every run so the file holds the latest measurement of each, with its machine and date.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('RESULTS.md', import.meta.url));

/** `--name <number>` from the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

/** `--no-write`: print the results without writing bench/RESULTS.md. */
export const writeResults = !process.argv.includes('--no-write');

export function machine(): string {
  const cpus = os.cpus();
  const memory = (os.totalmem() / 1024 ** 3).toFixed(0);
  return `${new Date().toISOString().slice(0, 10)}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${memory} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export async function appendResults(section: string, text: string): Promise<void> {
  const start = `<!-- ${section} -->`;
  const end = `<!-- /${section} -->`;
  let current: string;
  try {
    current = await readFile(RESULTS, 'utf8');
  } catch {
    current = '# Benchmark results\n\nWritten by `npm run bench` (each section by its benchmark in `bench/`). Timings are measured, never asserted in tests.\n';
  }
  const block = `${start}\n${text.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(RESULTS, next);
}
