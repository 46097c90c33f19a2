// Types of scripts/build-ui.mjs for the TypeScript that imports it (tests, the bench, screenshots).
export interface BuiltFile {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}
export function buildUi(outDir?: string): Promise<{ outDir: string; files: BuiltFile[] }>;
