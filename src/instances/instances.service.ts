// Instances: which manifest each deployment instance follows (a row in Postgres), and what it must
// run now (its manifest on the default branch, resolved to artifacts). The second is the hot read
// path every instance polls: it is computed once per (default-branch commit, manifest), serialized
// once per instance, and served from memory as bytes with an ETag until the default branch moves.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { InstanceRow, Tables } from '../db/database.js';
import { errors } from '../errors.js';
import type { ElementKey, ReleaseArtifact, Snapshot } from '../snapshots/snapshot.js';
import { elementKey } from '../snapshots/snapshot.js';
import type { ManifestEntry } from '../formats/manifest-canonical.js';
import { LATEST, type ElementType } from '../formats/values.js';
import type { ArtifactCatalog } from '../releases/artifact-catalog.js';
import { BoundedCache, type CacheStats } from '../runtime/bounded-cache.js';
import { YIELD_EVERY, yieldToEventLoop } from '../runtime/event-loop.js';
import type { EventPublisher, NewEvent } from '../events/events.service.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../runtime/clock.js';
import * as repository from './instances.repository.js';
import type { Snapshots } from '../snapshots/snapshots.js';

export interface InstanceView {
  name: string;
  description: string;
  url: string | null;
  manifest: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** When it last polled its releases (recorded at most every few seconds), and the commit it was answered at. */
  last_seen_at: string | null;
  last_seen_commit: string | null;
}

export interface EffectiveElement {
  uuid: string;
  type: ElementType;
  /** From the protected lists; null when the element is not (or no longer) protected. */
  name: string | null;
  release: string;
  artifact: { path: string; sha256: string; size: number; download_url: string } | null;
  /** For `latest`: the default-branch commit whose source the instance runs. */
  source_commit?: string;
  /** Set when the entry cannot be served (its artifact is missing); the others still are. */
  error?: { code: string; message: string };
}

/** The answer of GET /instances/{name}/releases, ready to send. */
export interface EffectiveReleases {
  readonly body: Buffer;
  readonly etag: string;
}

export interface InstanceService {
  list(filter: { manifest?: string }): Promise<InstanceView[]>;
  get(name: string): Promise<InstanceView>;
  create(input: { name: string; description?: string; url?: string | null; manifest?: string | null }, actor: Actor): Promise<InstanceView>;
  update(name: string, patch: { description?: string; url?: string | null }, actor: Actor): Promise<InstanceView>;
  bind(name: string, manifest: string | null, actor: Actor): Promise<InstanceView>;
  delete(name: string, actor: Actor): Promise<InstanceView>;
  releases(name: string): Promise<EffectiveReleases>;
  /** Its caches of bindings and answers, for /metrics. */
  cacheStats(): CacheStats[];
}

export interface InstanceServiceDeps {
  readonly db: Kysely<Tables>;
  readonly snapshots: Snapshots;
  readonly audit: AuditService;
  readonly artifacts: ArtifactCatalog;
  /** Base URL of this service, for download links. */
  readonly baseUrl: string;
  /**
   * How long a binding read from Postgres is trusted on the hot path. Writes through this process
   * take effect at once; a binding changed by another process is seen within this time.
   */
  readonly bindingTtlMs?: number;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly logger: Logger;
}

const DEFAULT_BINDING_TTL_MS = 2_000;
/** Last contact is written at most this often per instance (or when the answered commit moves): not a write per poll. */
const CONTACT_MS = 10_000;
const MAX_ANSWERS = 10_000;
/** Elements serialized between two yields to the event loop. */
const SERIALIZE_SLICE = 2_000;

export function createInstanceService(deps: InstanceServiceDeps): InstanceService {
  const ttl = deps.bindingTtlMs ?? DEFAULT_BINDING_TTL_MS;
  const bindings = new BoundedCache<string, { row: InstanceRow | undefined; until: number }>('instance_bindings', MAX_ANSWERS);
  // Both caches hold the newest commit only: a new default-branch commit invalidates every answer.
  let cachedCommit = '';
  const resolved = new Map<string, Promise<Buffer[]>>();
  const answers = new BoundedCache<string, EffectiveReleases>('instance_answers', MAX_ANSWERS);
  const contacts = new BoundedCache<string, { at: number; commit: string }>('instance_contacts', MAX_ANSWERS);

  /** Records the poll; a failure is logged, never the poll's answer. */
  async function contact(name: string, commit: string): Promise<void> {
    const now = deps.clock();
    const last = contacts.get(name);
    if (last && last.commit === commit && now.getTime() - last.at < CONTACT_MS) return;
    contacts.set(name, { at: now.getTime(), commit });
    try {
      await repository.recordContact(deps.db, name, now, commit);
    } catch (error) {
      contacts.delete(name);
      deps.logger.warn({ err: error, instance: name }, 'could not record the instance’s last contact');
    }
  }

  async function instance(name: string): Promise<InstanceRow> {
    const row = await repository.findInstance(deps.db, name);
    if (!row) throw errors.instanceNotFound(name);
    return row;
  }

  async function binding(name: string): Promise<InstanceRow> {
    const now = Date.now();
    const cached = bindings.get(name);
    let row = cached && cached.until > now ? cached.row : undefined;
    if (!cached || cached.until <= now) {
      row = await repository.findInstance(deps.db, name);
      bindings.set(name, { row, until: now + ttl });
    }
    if (!row) throw errors.instanceNotFound(name);
    return row;
  }

  async function manifestMustExist(manifest: string) {
    const snapshot = await deps.snapshots.latest({ fresh: true });
    if (!snapshot.manifests.has(manifest)) throw errors.manifestNotFound(manifest);
  }

  /**
   * The `elements` of a manifest at a snapshot: the items of the JSON array without its brackets,
   * as UTF-8 in pieces of SERIALIZE_SLICE elements. Every step over the entries yields to the
   * event loop: a manifest of 50,000 entries held it ~380 ms when built in one piece.
   */
  async function resolve(snapshot: Snapshot, manifest: string): Promise<Buffer[]> {
    const entry = snapshot.manifests.get(manifest);
    if (!entry) throw errors.manifestNotFound(manifest);
    if (!entry.file) {
      const error = entry.error!;
      throw errors.manifestInvalid(error.path, error.line ?? null, error.reason);
    }
    const { apps, workflows } = entry.file.view;
    const names = new Map<ElementKey, string>();
    for (const [i, e] of (await snapshot.loadElements()).entries()) {
      if (i % YIELD_EVERY === 0) await yieldToEventLoop();
      names.set(elementKey(e.type, e.uuid), e.name);
    }
    const located: (ManifestEntry & { type: ElementType; artifact: ReleaseArtifact | undefined })[] = [];
    for (const [type, list] of [
      ['PAGE', apps],
      ['WORKFLOW', workflows],
    ] as const) {
      for (const [i, e] of list.entries()) {
        if (i % YIELD_EVERY === 0) await yieldToEventLoop();
        located.push({ ...e, type, artifact: e.release === LATEST ? undefined : snapshot.releases.get(elementKey(type, e.uuid))?.get(e.release) });
      }
    }
    // A manifest naming a zip that failed its checks (pushed with plain git: writes through this
    // service refuse it) fails the whole answer with 422 artifact_invalid naming it, rather than
    // marking that one entry. An instance applies a 200 as the set it must run: a client that
    // skips entries with `error` would run a partial set without anyone noticing, and one that
    // does not would download and unpack an unsafe zip. 422 leaves every instance on what it runs
    // now, and says what to fix. A missing artifact stays a per-entry error: there is nothing to
    // download, so no client can unpack it by mistake.
    const infos = await deps.artifacts.requireValid(
      located.flatMap((e) => (e.artifact ? [{ blobId: e.artifact.blobId, commit: snapshot.commit, path: e.artifact.path }] : [])),
    );
    const element = (e: (typeof located)[number]): EffectiveElement => {
      const base = { uuid: e.uuid, type: e.type, name: names.get(elementKey(e.type, e.uuid)) ?? null, release: e.release };
      if (e.release === LATEST) return { ...base, artifact: null, source_commit: snapshot.commit };
      const info = e.artifact ? infos.get(e.artifact.blobId) : undefined;
      if (!e.artifact || !info) {
        return {
          ...base,
          artifact: null,
          error: { code: 'release_not_found', message: `No artifact for release ${e.release} on the default branch` },
        };
      }
      const query = `elementType=${e.type}`;
      return {
        ...base,
        artifact: {
          path: e.artifact.path,
          sha256: info.sha256,
          size: info.size,
          download_url: `${deps.baseUrl}/api/v2/source_control/releases/${e.uuid}/${e.release}/artifact?${query}`,
        },
      };
    };
    // In slices: the JSON of 50,000 elements is ~19 MB, whose one JSON.stringify held the event
    // loop, as did encoding it as one string (Buffer.from: ~130 ms).
    const parts: Buffer[] = [];
    for (let i = 0; i < located.length; i += SERIALIZE_SLICE) {
      if (i > 0) await yieldToEventLoop();
      const json = located
        .slice(i, i + SERIALIZE_SLICE)
        .map((e) => JSON.stringify(element(e)))
        .join(',');
      parts.push(Buffer.from(i === 0 ? json : `,${json}`));
    }
    return parts;
  }

  /**
   * One change of an instance: its row and its audit event commit together (`change` runs in the
   * transaction and returns the row, or undefined when there was none to change).
   */
  async function audited(
    actor: Actor,
    change: (trx: Kysely<Tables>) => Promise<InstanceRow | undefined>,
    event: (row: InstanceRow) => { action: string; details: Record<string, unknown> },
    missing: () => Error,
    published: (row: InstanceRow) => NewEvent[] = () => [],
  ): Promise<InstanceView> {
    const row = await deps.db.transaction().execute(async (trx) => {
      const changed = await change(trx);
      if (!changed) throw missing();
      const { action, details } = event(changed);
      await deps.audit.record(actor, { action, target: `instance:${changed.name}`, details }, trx);
      await deps.events.publish(trx, published(changed));
      return changed;
    });
    bindings.delete(row.name);
    return toView(row);
  }

  return {
    async list(filter) {
      return (await repository.listInstances(deps.db, filter)).map(toView);
    },

    async get(name) {
      return toView(await instance(name));
    },

    async create(input, actor) {
      if (input.manifest) await manifestMustExist(input.manifest);
      return audited(
        actor,
        (trx) =>
          repository.insertInstance(trx, {
            name: input.name,
            description: input.description ?? '',
            url: input.url ?? null,
            manifest: input.manifest ?? null,
            created_by: actor.name,
          }),
        (row) => ({ action: 'instance.create', details: { manifest: row.manifest, url: row.url } }),
        () => errors.instanceExists(input.name),
        (row) => (row.manifest ? [{ type: 'instance.bound', data: { instance: row.name, from: null, to: row.manifest } }] : []),
      );
    },

    async update(name, patch, actor) {
      return audited(
        actor,
        (trx) => repository.updateInstance(trx, name, patch),
        () => ({ action: 'instance.update', details: { ...patch } }),
        () => errors.instanceNotFound(name),
      );
    },

    async bind(name, manifest, actor) {
      const before = await instance(name);
      if (manifest) await manifestMustExist(manifest);
      return audited(
        actor,
        (trx) => repository.updateInstance(trx, name, { manifest }),
        () => ({ action: manifest ? 'instance.bind' : 'instance.unbind', details: { from: before.manifest, to: manifest } }),
        () => errors.instanceNotFound(name),
        // Unbinding is a binding to nothing: subscribers hear of it as `to: null`.
        () => (before.manifest === manifest ? [] : [{ type: 'instance.bound', data: { instance: name, from: before.manifest, to: manifest } }]),
      );
    },

    async delete(name, actor) {
      return audited(
        actor,
        (trx) => repository.deleteInstance(trx, name),
        (row) => ({ action: 'instance.delete', details: { manifest: row.manifest } }),
        () => errors.instanceNotFound(name),
      );
    },

    cacheStats: () => [bindings.stats(), answers.stats(), contacts.stats()],

    async releases(name) {
      const row = await binding(name);
      if (!row.manifest) throw errors.instanceUnbound(name);
      const snapshot = await deps.snapshots.latest();
      if (snapshot.commit !== cachedCommit) {
        cachedCommit = snapshot.commit;
        resolved.clear();
        answers.clear();
      }
      const key = `${row.manifest}\0${name}`;
      const cached = answers.get(key);
      // Recorded once the instance has its answer: a refused poll (an invalid manifest) writes nothing.
      if (cached) {
        await contact(name, snapshot.commit);
        return cached;
      }
      let elements = resolved.get(row.manifest);
      if (!elements) {
        // One computation per (commit, manifest), however many instances ask at once.
        elements = resolve(snapshot, row.manifest);
        resolved.set(row.manifest, elements);
        elements.catch(() => resolved.delete(row.manifest!));
      }
      const pieces = [
        Buffer.from(
          `{"success":true,"data":{"instance":${JSON.stringify(name)},"manifest":${JSON.stringify(row.manifest)},"commit_sha":"${snapshot.commit}","elements":[`,
        ),
        ...(await elements),
        Buffer.from(']}}'),
      ];
      const hash = createHash('sha256');
      for (const piece of pieces) {
        await yieldToEventLoop();
        hash.update(piece);
      }
      const answer = { body: await joined(pieces), etag: `"${hash.digest('hex').slice(0, 40)}"` };
      if (snapshot.commit === cachedCommit) {
        answers.set(key, answer);
      }
      await contact(name, snapshot.commit);
      return answer;
    },
  };
}

/**
 * The pieces in one Buffer, copied a piece at a time: at 50,000 entries the answer is ~19 MiB, and
 * one Buffer.concat of it (a fresh allocation, its pages faulted in as it is written) held the
 * event loop ~100 ms.
 */
async function joined(pieces: readonly Buffer[]): Promise<Buffer> {
  const body = Buffer.allocUnsafe(pieces.reduce((bytes, piece) => bytes + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    await yieldToEventLoop();
    at += piece.copy(body, at);
  }
  return body;
}

function toView(row: InstanceRow): InstanceView {
  return {
    name: row.name,
    description: row.description,
    url: row.url,
    manifest: row.manifest,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    last_seen_at: row.last_seen_at?.toISOString() ?? null,
    last_seen_commit: row.last_seen_commit,
  };
}
