// The artifact warmer: describes every artifact of the default branch in the background, after
// start-up and after each change of its head, so that no request waits for zips to be read and
// checked. A 50,000-app repository holds 200,000 artifacts; read on demand, the first
// `GET /instances/{name}/releases` read 50,000 zips while its client waited (~48 s here, issue
// 14), and a whole-manifest PUT read one per entry. Warm, both find every verdict in memory or in
// the `artifacts` table. The work goes a slice at a time (ArtifactCatalog.warm), so requests keep
// the event loop; a request that needs a blob being read waits for that read rather than
// repeating it. The catalog is content-addressed, so a warm-up overtaken by a new head is still
// right as far as it went: the next pass only reads what is new.
import { Gauge, type Registry } from 'prom-client';
import type { GitGateway, Logger } from '../git/types.js';
import type { ArtifactCatalog } from './artifact-catalog.js';
import { createPeriodicTask } from '../runtime/periodic.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface ArtifactWarmer {
  /** Warms the current head now and then whenever it moves (checked every `intervalMs`). */
  start(): void;
  /** Stops the timer, abandons a pass in flight at its next slice, and waits for it. */
  stop(): Promise<void>;
  /** One pass over the current head; resolves when it is done (tests, and the timer). */
  warmNow(): Promise<void>;
  /** The head of the last pass that finished, undefined before the first. */
  readonly warmedHead: string | undefined;
}

export interface ArtifactWarmerDeps {
  readonly git: GitGateway;
  readonly snapshots: Snapshots;
  readonly catalog: ArtifactCatalog;
  readonly logger: Logger;
  /** How often the head is compared with the last warmed one; 0: only warmNow. */
  readonly intervalMs: number;
}

export function createArtifactWarmer(deps: ArtifactWarmerDeps): ArtifactWarmer {
  let warmedHead: string | undefined;
  const abort = new AbortController();

  async function pass(): Promise<void> {
    const head = await deps.git.headCommit();
    if (head === warmedHead) return;
    const snapshot = await deps.snapshots.latest();
    const result = await deps.catalog.warm(snapshot, {
      signal: abort.signal,
      onProgress: (progress) => deps.logger.info({ head: snapshot.commit, ...progress }, 'checking artifacts'),
    });
    if (result.aborted) return;
    warmedHead = snapshot.commit;
    if (result.read > 0) deps.logger.info({ head: snapshot.commit, ...result }, 'artifacts checked');
  }

  // A transient read error (a pack replaced by native gc, the database restarting): the next round
  // tries again, and requests read what they need themselves meanwhile.
  const failed = (error: unknown) => {
    if (!task.stopped) deps.logger.warn({ err: error }, 'artifact warm-up failed; retrying on the next tick');
  };
  const task = createPeriodicTask({ everyMs: deps.intervalMs, run: pass, onError: failed });

  return {
    get warmedHead() {
      return warmedHead;
    },
    warmNow: () => task.runNow().catch(failed),
    start: () => task.start(),
    async stop() {
      const stopping = task.stop();
      abort.abort();
      await stopping;
    },
  };
}

/** `mir_artifacts_warm`: 1 once every artifact of the head is described, 0 while that is pending. */
export function registerWarmerMetrics(registry: Registry, warmer: ArtifactWarmer, git: GitGateway): void {
  new Gauge({
    name: 'mir_artifacts_warm',
    help: 'Whether every artifact of the default branch head is described (read and checked once), so no request reads zips',
    registers: [registry],
    async collect() {
      this.set((await git.headCommit()) === warmer.warmedHead ? 1 : 0);
    },
  });
}
