// The release matrix: elements × manifests, each cell the release the manifest sets, `latest`,
// pending pull requests, holds and drift of the instances that follow it. A `role="grid"` with a
// roving tabindex (arrow keys, Home/End, PageUp/PageDown move; Enter opens the cell's release
// picker), virtually scrolled: rows of a fixed height, only those in view (plus an overscan) are
// in the DOM, so 5,000 elements scroll like 50. Changes are staged, reviewed as a publish dry run
// (the exact diff of each manifest file) and proposed as one pull request.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { unwrap, type DryRun, type ElementType, type Matrix, type MatrixElement, type Release, type Session } from './api.js';
import { Diff, ErrorBanner, Modal, Verdicts } from './common.js';

export const ROW_HEIGHT = 40;
const OVERSCAN = 10;

export interface Change {
  readonly manifest: string;
  readonly element: MatrixElement;
  readonly from: string | null;
  readonly release: string;
}

type SortKey = 'name' | 'type' | 'latest' | 'releases';
const key = (uuid: string, manifest: string) => `${uuid}|${manifest}`;

export function MatrixPage({ session, matrix, onChanged }: { session: Session; matrix: Matrix | null; onChanged: () => Promise<void> }) {
  const [filter, setFilter] = useState('');
  const [type, setType] = useState<'' | ElementType>('');
  const [sort, setSort] = useState<SortKey>('name');
  const [staged, setStaged] = useState<ReadonlyMap<string, Change>>(new Map());
  const [picker, setPicker] = useState<{ element: MatrixElement; manifest: string } | null>(null);
  const [reviewing, setReviewing] = useState(false);
  const [opened, setOpened] = useState<{ number: number; url: string } | null>(null);

  const rows = useMemo(() => {
    if (!matrix) return [];
    const needle = filter.trim().toLowerCase();
    const list = matrix.elements.filter((e) => (!type || e.type === type) && (!needle || e.name.toLowerCase().includes(needle)));
    const by: Record<SortKey, (a: MatrixElement, b: MatrixElement) => number> = {
      name: (a, b) => a.name.localeCompare(b.name),
      type: (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name),
      latest: (a, b) => compareVersions(b.latest_release, a.latest_release) || a.name.localeCompare(b.name),
      releases: (a, b) => b.releases_count - a.releases_count || a.name.localeCompare(b.name),
    };
    return list.sort(by[sort]);
  }, [matrix, filter, type, sort]);

  if (!matrix) return <p aria-busy="true">Loading the release matrix…</p>;
  const stage = (change: Change | null, k: string) =>
    setStaged((old) => {
      const next = new Map(old);
      if (change && change.release !== change.from) next.set(k, change);
      else next.delete(k);
      return next;
    });

  return (
    <section aria-labelledby="matrix-title">
      <div class="toolbar">
        <h2 id="matrix-title">Releases</h2>
        <label>
          Name <input type="search" aria-label="Name" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="filter by name" />
        </label>
        <label>
          Type{' '}
          <select aria-label="Type" value={type} onChange={(e) => setType(e.currentTarget.value as '' | ElementType)}>
            <option value="">apps and workflows</option>
            <option value="PAGE">apps</option>
            <option value="WORKFLOW">workflows</option>
          </select>
        </label>
        <label>
          Sort{' '}
          <select aria-label="Sort" value={sort} onChange={(e) => setSort(e.currentTarget.value as SortKey)}>
            <option value="name">by name</option>
            <option value="type">by type</option>
            <option value="latest">by latest release</option>
            <option value="releases">by number of releases</option>
          </select>
        </label>
        <span class="muted" aria-live="polite">
          {rows.length} of {matrix.elements.length} elements · commit <code>{matrix.commit.slice(0, 10)}</code>
        </span>
        {session.canWrite && (
          <span class="staged-bar">
            {staged.size > 0 && (
              <button type="button" class="link" onClick={() => setStaged(new Map())}>
                Discard
              </button>
            )}
            <button type="button" class="primary" disabled={staged.size === 0} onClick={() => setReviewing(true)}>
              Review {staged.size > 0 ? `${staged.size} change${staged.size === 1 ? '' : 's'}` : 'changes'}
            </button>
          </span>
        )}
      </div>
      {matrix.invalidManifests.length > 0 && (
        <div class="warning" role="status">
          {matrix.invalidManifests.map((m) => (
            <p key={m.name}>
              Manifest <strong>{m.name}</strong> does not parse ({m.path}
              {m.line ? `:${m.line}` : ''}): {m.reason}
            </p>
          ))}
        </div>
      )}
      {opened && (
        <p class="notice" role="status">
          Pull request <a href={`#/pulls/${opened.number}`}>#{opened.number}</a> opened.{' '}
          <button type="button" class="link" onClick={() => setOpened(null)}>
            Dismiss
          </button>
        </p>
      )}
      <Grid matrix={matrix} rows={rows} staged={staged} canWrite={session.canWrite} onPick={(element, manifest) => setPicker({ element, manifest })} />
      {picker && (
        <ReleasePicker
          session={session}
          element={picker.element}
          manifest={picker.manifest}
          staged={staged.get(key(picker.element.uuid, picker.manifest))}
          onClose={() => setPicker(null)}
          onPick={(release) => {
            const { element, manifest } = picker;
            stage(release === null ? null : { element, manifest, from: element.manifests[manifest] ?? null, release }, key(element.uuid, manifest));
            setPicker(null);
          }}
        />
      )}
      {reviewing && (
        <Review
          session={session}
          changes={[...staged.values()]}
          onClose={() => setReviewing(false)}
          onCreated={(pr) => {
            setReviewing(false);
            setStaged(new Map());
            setOpened(pr);
            void onChanged();
          }}
        />
      )}
    </section>
  );
}

function Grid({
  matrix,
  rows,
  staged,
  canWrite,
  onPick,
}: {
  matrix: Matrix;
  rows: MatrixElement[];
  staged: ReadonlyMap<string, Change>;
  canWrite: boolean;
  onPick: (element: MatrixElement, manifest: string) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [focus, setFocus] = useState({ row: 0, col: 0 });
  const moved = useRef(false);
  const columns = matrix.manifests;
  const boundTo = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const instance of matrix.instances) if (instance.manifest) map.set(instance.manifest, [...(map.get(instance.manifest) ?? []), instance.name]);
    return map;
  }, [matrix.instances]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    setHeight(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  const row = Math.min(focus.row, Math.max(0, rows.length - 1));
  const col = Math.min(focus.col, columns.length);
  // After a keyboard move: bring the cell into view, then give it focus once it is rendered.
  useLayoutEffect(() => {
    if (!moved.current) return;
    const el = scroller.current;
    if (!el) return;
    const top = row * ROW_HEIGHT;
    const header = ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight - header) el.scrollTop = top + ROW_HEIGHT - el.clientHeight + header;
    const cell = el.querySelector<HTMLElement>(`[data-cell="${row}:${col}"]`);
    if (cell) {
      cell.focus({ preventScroll: true });
      moved.current = false;
    }
  });

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  const template = `minmax(14rem, 1.4fr) repeat(${columns.length}, minmax(10rem, 1fr))`;
  const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);

  const onKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, () => { row: number; col: number }> = {
      ArrowDown: () => ({ row: Math.min(rows.length - 1, row + 1), col }),
      ArrowUp: () => ({ row: Math.max(0, row - 1), col }),
      ArrowRight: () => ({ row, col: Math.min(columns.length, col + 1) }),
      ArrowLeft: () => ({ row, col: Math.max(0, col - 1) }),
      Home: () => (e.ctrlKey ? { row: 0, col: 0 } : { row, col: 0 }),
      End: () => (e.ctrlKey ? { row: rows.length - 1, col: columns.length } : { row, col: columns.length }),
      PageDown: () => ({ row: Math.min(rows.length - 1, row + page), col }),
      PageUp: () => ({ row: Math.max(0, row - page), col }),
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      moved.current = true;
      setFocus(move());
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      const element = rows[row];
      if (!element) return;
      e.preventDefault();
      if (col === 0) location.hash = `#/elements/${element.uuid}`;
      else if (canWrite) onPick(element, columns[col - 1]!);
    }
  };

  if (rows.length === 0) return <p class="muted">No element matches.</p>;
  return (
    <div
      class="grid-scroller"
      ref={scroller}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      role="grid"
      aria-label="Release matrix: elements by manifest"
      aria-rowcount={rows.length + 1}
      aria-colcount={columns.length + 1}
      onKeyDown={onKeyDown}
    >
      <div class="grid-row head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template }}>
        <div role="columnheader" class="cell">
          Element
        </div>
        {columns.map((m) => (
          <div role="columnheader" class="cell" key={m}>
            <span class="manifest-name">{m}</span>
            <span class="instances">{(boundTo.get(m) ?? []).join(', ') || (matrix.instances.length ? 'no instance' : '')}</span>
          </div>
        ))}
      </div>
      <div class="grid-body" style={{ height: rows.length * ROW_HEIGHT }}>
        {visible.map((element, i) => {
          const index = first + i;
          return (
            <div
              class="grid-row"
              role="row"
              key={element.uuid}
              aria-rowindex={index + 2}
              data-uuid={element.uuid}
              style={{ gridTemplateColumns: template, transform: `translateY(${index * ROW_HEIGHT}px)` }}
            >
              <div
                role="rowheader"
                class="cell name"
                data-cell={`${index}:0`}
                tabIndex={index === row && col === 0 ? 0 : -1}
                onFocus={() => setFocus({ row: index, col: 0 })}
              >
                <span class={`type ${element.type}`} title={element.type === 'PAGE' ? 'app' : 'workflow'}>
                  {element.type === 'PAGE' ? 'app' : 'wf'}
                </span>
                <a href={`#/elements/${element.uuid}`} tabIndex={-1}>
                  {element.name}
                </a>
                <span class="muted small">{element.latest_release ?? 'no release'}</span>
              </div>
              {columns.map((manifest, c) => (
                <Cell
                  key={manifest}
                  element={element}
                  manifest={manifest}
                  instances={boundTo.get(manifest) ?? []}
                  change={staged.get(key(element.uuid, manifest))}
                  cellId={`${index}:${c + 1}`}
                  tabbable={index === row && col === c + 1}
                  canWrite={canWrite}
                  onFocus={() => setFocus({ row: index, col: c + 1 })}
                  onPick={() => onPick(element, manifest)}
                />
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function Cell(props: {
  element: MatrixElement;
  manifest: string;
  instances: string[];
  change: Change | undefined;
  cellId: string;
  tabbable: boolean;
  canWrite: boolean;
  onFocus: () => void;
  onPick: () => void;
}) {
  const { element, manifest, change } = props;
  const release = element.manifests[manifest] ?? null;
  const pending = element.pending.filter((p) => p.manifest === manifest);
  const held = element.holds.filter((h) => h.version === release);
  const drift = props.instances.map((name) => ({ name, state: element.instances[name] })).filter(({ state }) => isDrift(state));
  const label = [
    `${element.name} in ${manifest}: ${release ?? 'not in the manifest'}`,
    change ? `staged: ${change.release}` : '',
    ...pending.map((p) => `pending ${p.release ?? 'removal'} in pull request ${p.pull_request.number}`),
    ...held.map((h) => `held: ${h.reason}`),
    ...drift.map(({ name, state }) => `${name} runs ${state?.deployed ?? 'nothing reported'}`),
  ]
    .filter(Boolean)
    .join('; ');
  return (
    <div
      role="gridcell"
      class={`cell release${change ? ' staged' : ''}${props.canWrite ? ' editable' : ''}`}
      data-cell={props.cellId}
      data-manifest={manifest}
      tabIndex={props.tabbable ? 0 : -1}
      aria-label={label}
      onFocus={props.onFocus}
      onClick={props.canWrite ? props.onPick : undefined}
    >
      {change ? (
        <span class="value">
          <s>{release ?? '—'}</s> → <strong>{change.release}</strong>
        </span>
      ) : (
        <span class={`value${release === 'latest' ? ' latest' : ''}${release === null ? ' absent' : ''}`}>{release ?? '—'}</span>
      )}
      {pending.map((p) => (
        <span class="badge pending" key={p.pull_request.number} title={`pull request #${p.pull_request.number} sets ${p.release ?? 'no release'}`}>
          #{p.pull_request.number} → {p.release ?? '×'}
        </span>
      ))}
      {held.length > 0 && (
        <span class="badge held" title={held.map((h) => h.reason).join('; ')}>
          held
        </span>
      )}
      {drift.length > 0 && (
        <span class="badge drift" title={drift.map(({ name, state }) => `${name} runs ${state?.deployed ?? 'nothing reported'}`).join('; ')}>
          drift
        </span>
      )}
    </div>
  );
}

function ReleasePicker(props: {
  session: Session;
  element: MatrixElement;
  manifest: string;
  staged: Change | undefined;
  onClose: () => void;
  onPick: (release: string | null) => void;
}) {
  const { session, element, manifest } = props;
  const current = element.manifests[manifest] ?? null;
  const [releases, setReleases] = useState<Release[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [choice, setChoice] = useState<string>(props.staged?.release ?? current ?? '');
  useEffect(() => {
    unwrap(
      session.client.GET('/api/v2/source_control/releases/{elementUuid}', {
        params: { path: { elementUuid: element.uuid }, query: { elementType: element.type } },
      }),
    ).then(setReleases, setError);
  }, [session, element]);
  const options = releases ? [...releases.map((r) => r.release_version), 'latest'] : [];
  return (
    <Modal title={`${element.name} in ${manifest}`} onClose={props.onClose}>
      <p class="muted">Now: {current ?? 'not in this manifest'}</p>
      <ErrorBanner error={error} />
      {!releases && !error && <p aria-busy="true">Loading releases…</p>}
      {releases && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            props.onPick(choice || null);
          }}
        >
          <fieldset class="releases">
            <legend>Release</legend>
            {options.map((version) => {
              const release = releases.find((r) => r.release_version === version);
              const disabled = release?.status === 'pending' || Boolean(release?.hold);
              return (
                <label key={version} class={disabled ? 'disabled' : ''}>
                  <input type="radio" name="release" value={version} checked={choice === version} disabled={disabled} onChange={() => setChoice(version)} />
                  <strong>{version}</strong>
                  {version === current && <span class="badge">current</span>}
                  {release?.status === 'pending' && <span class="badge pending">pending #{release.pull_request?.number}</span>}
                  {release?.hold && <span class="badge held">held: {release.hold.reason}</span>}
                  <span class="muted small">
                    {version === 'latest' ? 'the source on the default branch' : `${release?.release_description ?? ''} · ${release?.created_by ?? ''}`}
                  </span>
                </label>
              );
            })}
          </fieldset>
          <div class="actions">
            {props.staged && (
              <button type="button" onClick={() => props.onPick(null)}>
                Unstage
              </button>
            )}
            <button type="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={!choice || choice === current}>
              Stage {choice || ''}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

function Review({
  session,
  changes,
  onClose,
  onCreated,
}: {
  session: Session;
  changes: Change[];
  onClose: () => void;
  onCreated: (pr: { number: number; url: string }) => void;
}) {
  const [dryRun, setDryRun] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const body = {
    changes: changes.map((c) => ({ manifest: c.manifest, element_uuid: c.element.uuid, element_type: c.element.type, release: c.release })),
  };
  useEffect(() => {
    unwrap(session.client.POST('/api/v2/source_control/publish', { params: { query: { dry_run: true } }, body })).then(
      (answer) => setDryRun('dry_run' in answer ? answer : null),
      setError,
    );
  }, []);
  const create = async () => {
    setBusy(true);
    try {
      const answer = await unwrap(
        session.client.POST('/api/v2/source_control/publish', { body: { ...body, ...(dryRun ? { base_sha: dryRun.base_sha } : {}) } }),
      );
      if ('pull_request' in answer && 'number' in answer.pull_request) onCreated(answer.pull_request);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Modal title="Review the changes" onClose={onClose} wide>
      <ul class="changes">
        {changes.map((c) => (
          <li key={key(c.element.uuid, c.manifest)}>
            <strong>{c.element.name}</strong> in <strong>{c.manifest}</strong>: {c.from ?? '—'} → <strong>{c.release}</strong>
          </li>
        ))}
      </ul>
      <ErrorBanner error={error} />
      {!dryRun && !error && <p aria-busy="true">Computing the dry run…</p>}
      {dryRun && (
        <div class="dry-run">
          <h3>{dryRun.pull_request.title}</h3>
          <p class="muted">
            Against <code>{dryRun.base_sha.slice(0, 10)}</code>, branch <code>{dryRun.branch_name}</code>
          </p>
          {dryRun.manifests.map((m) => (
            <section key={m.name} class="manifest-diff">
              <h4>
                {m.name} {m.before === null ? '(new manifest)' : ''}
              </h4>
              <Diff before={m.before} after={m.after} />
            </section>
          ))}
          <h4>Policy</h4>
          <Verdicts verdicts={dryRun.policy} />
        </div>
      )}
      <div class="actions">
        <button type="button" onClick={onClose}>
          Back
        </button>
        <button type="button" class="primary" disabled={!dryRun || busy} onClick={() => void create()}>
          {busy ? 'Creating…' : 'Create pull request'}
        </button>
      </div>
    </Modal>
  );
}

/** An instance that reported a deployment of the element, of another release than its manifest sets. */
export function isDrift(state: { desired: string | null; deployed: string | null } | undefined): boolean {
  return Boolean(state && state.deployed !== null && state.deployed !== state.desired);
}

/** Semantic order of X.Y.Z (null first). */
export function compareVersions(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
