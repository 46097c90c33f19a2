// Puts content on the default branch the way people would: commits straight to it (as a push with
// plain git would), through the gateway's own commit + fast-forward. Names are random per call, so
// tests never share data.
import { randomUUID } from 'node:crypto';
import type { GitGateway } from '../../src/git/types.js';
import { buildArtifact } from '../../src/formats/artifact-writer.js';
import { artifactPath, manifestPath, PROTECTED_APPS_PATH, PROTECTED_WORKFLOWS_PATH } from '../../src/formats/layout.js';
import type { ElementType } from '../../src/formats/values.js';
import { createSnapshots } from '../../src/snapshots/snapshots.js';

export interface FixtureElement {
  readonly uuid: string;
  readonly name: string;
  readonly type: ElementType;
  /** Source files (relative to the element's folder). */
  readonly files: Record<string, string>;
  /** Versions to commit as artifacts under dist/. */
  readonly releases: readonly string[];
}

export interface Fixture {
  readonly elements: readonly FixtureElement[];
  readonly commit: string;
  app(i: number): FixtureElement;
  workflow(i: number): FixtureElement;
}

const enc = (s: string) => new TextEncoder().encode(s);
export const PEOPLE = { name: 'Grace Hopper', email: 'grace@example.com' };

export function element(type: ElementType, releases: readonly string[] = ['1.0.0'], files?: Record<string, string>): FixtureElement {
  const uuid = randomUUID();
  const name = `${type === 'PAGE' ? 'app' : 'wf'}-${uuid.slice(0, 8)}`;
  return { uuid, name, type, releases, files: files ?? { 'main.json': `{"name": "${name}"}\n`, 'lib/util.js': `export const id = '${uuid}';\n` } };
}

/** `count` elements sorted by uuid: for tests about where entries land in a manifest file. */
export function elementsInUuidOrder(count: number, type: ElementType, releases: readonly string[]): FixtureElement[] {
  return Array.from({ length: count }, () => element(type, releases)).sort((p, q) => (p.uuid < q.uuid ? -1 : 1));
}

/** Commits elements (protected lists, sources, artifacts) and manifests straight to the default branch. */
export async function seed(git: GitGateway, content: { elements?: readonly FixtureElement[]; manifests?: Record<string, string> }): Promise<Fixture> {
  const elements = content.elements ?? [];
  const snapshot = await createSnapshots(git).latest();
  const changes: { path: string; bytes: Uint8Array }[] = [];
  const listed = (type: ElementType) => [
    ...snapshot.elements.filter((e) => e.type === type).map((e) => ({ uuid: e.uuid, name: e.name, ...(e.path ? { path: e.path } : {}) })),
    ...elements.filter((e) => e.type === type).map((e) => ({ uuid: e.uuid, name: e.name })),
  ];
  const yamlList = (key: string, items: { uuid: string; name: string; path?: string }[]) =>
    `${key}:\n${items.map((i) => `  - uuid: ${i.uuid}\n    name: ${i.name}\n${i.path ? `    path: ${i.path}\n` : ''}`).join('')}`.replace(/:\n$/, ': []\n');
  if (elements.length > 0) {
    changes.push({ path: PROTECTED_APPS_PATH, bytes: enc(yamlList('apps', listed('PAGE'))) });
    changes.push({ path: PROTECTED_WORKFLOWS_PATH, bytes: enc(yamlList('workflows', listed('WORKFLOW'))) });
  }
  for (const e of elements) {
    const folder = `${e.type === 'PAGE' ? 'apps' : 'workflows'}/${e.name}`;
    for (const [file, text] of Object.entries(e.files)) changes.push({ path: `${folder}/${file}`, bytes: enc(text) });
    for (const version of e.releases) {
      const zip = await buildArtifact(
        Object.entries(e.files).map(([path, text]) => ({ path, bytes: enc(text) })),
        {
          format: 1,
          element_uuid: e.uuid,
          element_type: e.type,
          name: e.name,
          release_version: version,
          release_description: `release ${version} of ${e.name}`,
          created_at: '2026-01-01T00:00:00.000Z',
          created_by: PEOPLE.name,
          source_commit: snapshot.commit,
          source_tree: snapshot.tree,
        },
      );
      changes.push({ path: artifactPath(e.type, e.uuid, version), bytes: zip });
    }
  }
  for (const [name, text] of Object.entries(content.manifests ?? {})) changes.push({ path: manifestPath(name), bytes: enc(text) });
  const commit = await git.withWriteLock(async () => {
    const head = await git.headCommit();
    const next = await git.commit({ parent: head, changes, message: 'Seed test content\n', author: PEOPLE });
    await git.fastForwardDefault({ from: head, to: next });
    return next;
  });
  const of = (type: ElementType) => elements.filter((e) => e.type === type);
  return {
    elements,
    commit,
    app: (i) => of('PAGE')[i]!,
    workflow: (i) => of('WORKFLOW')[i]!,
  };
}

/** Commits files as they are (any bytes, at any path) straight to the default branch, as a push with plain git would. */
export async function commitFiles(git: GitGateway, files: Record<string, string | Uint8Array>, message = 'Commit files as they are\n'): Promise<string> {
  const changes = Object.entries(files).map(([path, content]) => ({ path, bytes: typeof content === 'string' ? enc(content) : content }));
  return git.withWriteLock(async () => {
    const head = await git.headCommit();
    const next = await git.commit({ parent: head, changes, message, author: PEOPLE });
    await git.fastForwardDefault({ from: head, to: next });
    return next;
  });
}

export function manifestYaml(name: string, entries: { apps?: [string, string][]; workflows?: [string, string][] } = {}): string {
  const list = (items: [string, string][] = []) =>
    items.length === 0
      ? ' []\n'
      : `\n${[...items]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([uuid, release]) => `  - uuid: ${uuid}\n    release: ${release}\n`)
          .join('')}`;
  return `version: 1.0.0\nname: ${name}\napps:${list(entries.apps)}workflows:${list(entries.workflows)}`;
}

export function manifestName(prefix = 'm'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
