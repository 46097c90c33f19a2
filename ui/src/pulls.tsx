// Pull requests: the list, and one with each manifest's diff, the artifacts it adds, conflicts
// entry by entry, the policy verdicts and approvals; merge, close, refresh and approve where the
// token's scopes allow. Both read again on every live event (`tick`).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { unwrap, type Matrix, type PullRequest, type Session, type Verdict } from './api.js';
import { ErrorBanner, Verdicts, when } from './common.js';

const STATES = ['open', 'conflicted', 'merged', 'closed'] as const;

export function PullRequestsPage({ session, tick }: { session: Session; tick: number }) {
  const [state, setState] = useState<'' | (typeof STATES)[number]>('');
  const [list, setList] = useState<PullRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    unwrap(session.client.GET('/api/v2/source_control/pull_requests', { params: { query: { limit: 100, ...(state ? { state } : {}) } } })).then(
      (d) => setList(d.pull_requests),
      setError,
    );
  }, [session, state, tick]);
  return (
    <section aria-labelledby="pulls-title">
      <div class="toolbar">
        <h2 id="pulls-title">Pull requests</h2>
        <label>
          State{' '}
          <select value={state} onChange={(e) => setState(e.currentTarget.value as typeof state)}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={error} />
      {list && list.length === 0 && <p class="muted">No pull request.</p>}
      {list && list.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Title</th>
              <th scope="col">Kind</th>
              <th scope="col">State</th>
              <th scope="col">Author</th>
              <th scope="col">Opened</th>
            </tr>
          </thead>
          <tbody>
            {list.map((pr) => (
              <tr key={pr.number}>
                <td>
                  <a href={`#/pulls/${pr.number}`}>#{pr.number}</a>
                </td>
                <td>
                  <a href={`#/pulls/${pr.number}`}>{pr.title}</a>
                </td>
                <td>{pr.kind}</td>
                <td>
                  <span class={`badge state-${pr.state}`}>{pr.state}</span>
                </td>
                <td>{pr.author}</td>
                <td>{when(pr.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function PullRequestPage({
  session,
  matrix,
  number,
  tick,
  onChanged,
}: {
  session: Session;
  matrix: Matrix | null;
  number: number;
  tick: number;
  onChanged: () => Promise<void>;
}) {
  const nameOf = (uuid: string) => matrix?.elements.find((e) => e.uuid === uuid)?.name ?? uuid;
  const [pr, setPr] = useState<PullRequest | null>(null);
  const [verdicts, setVerdicts] = useState<Verdict[] | null>(null);
  const [approvals, setApprovals] = useState<{ approver: string; approved_at: string }[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const path = { params: { path: { number } } };
  const load = useCallback(async () => {
    try {
      const { pull_request } = await unwrap(session.client.GET('/api/v2/source_control/pull_requests/{number}', path));
      setPr(pull_request);
      const live = pull_request.state === 'open' || pull_request.state === 'conflicted';
      setVerdicts(live ? (await unwrap(session.client.GET('/api/v2/source_control/pull_requests/{number}/verdicts', path))).policy : null);
      setApprovals(
        pull_request.provider === 'builtin'
          ? (await unwrap(session.client.GET('/api/v2/source_control/pull_requests/{number}/approvals', path))).approvals
          : null,
      );
    } catch (e) {
      setError(e);
    }
  }, [session, number]);
  useEffect(() => {
    void load();
  }, [load, tick]);

  const act = async (action: 'merge' | 'close' | 'refresh' | 'approve') => {
    setBusy(true);
    setError(null);
    try {
      if (action === 'merge') await unwrap(session.client.POST('/api/v2/source_control/pull_requests/{number}/merge', path));
      else if (action === 'close') await unwrap(session.client.POST('/api/v2/source_control/pull_requests/{number}/close', path));
      else if (action === 'refresh') await unwrap(session.client.POST('/api/v2/source_control/pull_requests/{number}/refresh', path));
      else await unwrap(session.client.POST('/api/v2/source_control/pull_requests/{number}/approvals', path));
      await load();
      void onChanged();
    } catch (e) {
      setError(e);
      await load();
    } finally {
      setBusy(false);
    }
  };

  if (!pr) return error ? <ErrorBanner error={error} /> : <p aria-busy="true">Loading pull request #{number}…</p>;
  const open = pr.state === 'open' || pr.state === 'conflicted';
  return (
    <section aria-labelledby="pr-title" class="pull-request">
      <p>
        <a href="#/pulls">← Pull requests</a>
      </p>
      <h2 id="pr-title">
        #{pr.number} {pr.title} <span class={`badge state-${pr.state}`}>{pr.state}</span>
      </h2>
      <p class="muted">
        {pr.kind} by {pr.author}, opened {when(pr.created_at)}
        {pr.merged_at ? ` · merged ${when(pr.merged_at)} by ${pr.merged_by ?? '?'}` : ''}
        {pr.closed_at ? ` · closed ${when(pr.closed_at)}` : ''} · branch <code>{pr.source_branch}</code>
        {pr.provider !== 'builtin' && (
          <>
            {' '}
            · <a href={pr.url}>on {pr.provider}</a>
          </>
        )}
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {session.canWrite && open && (
        <div class="actions left">
          <button type="button" class="primary" disabled={busy} onClick={() => void act('merge')}>
            Merge
          </button>
          {pr.provider === 'builtin' && (
            <button type="button" disabled={busy} onClick={() => void act('approve')}>
              Approve
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => void act('refresh')}>
            Refresh
          </button>
          <button type="button" disabled={busy} onClick={() => void act('close')}>
            Close
          </button>
        </div>
      )}
      {pr.conflicts && pr.conflicts.length > 0 && (
        <div class="warning">
          <h3>Conflicts</h3>
          <p>The default branch changed these entries since the pull request was opened; merging would overwrite them.</p>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Entry</th>
                <th scope="col">Why</th>
                <th scope="col">Expected</th>
                <th scope="col">Found</th>
                <th scope="col">Wanted</th>
              </tr>
            </thead>
            <tbody>
              {pr.conflicts.map((c, i) => (
                <tr key={i}>
                  <td>
                    <code>{c.target}</code>
                  </td>
                  <td>{c.reason}</td>
                  <td>{c.expected ?? '—'}</td>
                  <td>{c.found ?? '—'}</td>
                  <td>{c.wanted ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Changes</h3>
      {pr.manifests.length === 0 && <p class="muted">No manifest change.</p>}
      {pr.manifests.map((m) => (
        <table class="table manifest-changes" key={m.manifest} aria-label={`Changes to ${m.manifest}`}>
          <caption>
            {m.manifest}
            {m.created ? ' (created)' : ''}
            {m.deleted ? ' (deleted)' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Element</th>
              <th scope="col">Type</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {m.changed.map((c) => (
              <tr key={c.element_uuid} class="changed">
                <td>
                  <a href={`#/elements/${c.element_uuid}`}>{nameOf(c.element_uuid)}</a>
                </td>
                <td>{c.element_type}</td>
                <td class="del">{c.from}</td>
                <td class="add">{c.to}</td>
              </tr>
            ))}
            {m.added.map((c) => (
              <tr key={c.element_uuid} class="added">
                <td>
                  <a href={`#/elements/${c.element_uuid}`}>{nameOf(c.element_uuid)}</a>
                </td>
                <td>{c.element_type}</td>
                <td>—</td>
                <td class="add">{c.release}</td>
              </tr>
            ))}
            {m.removed.map((c) => (
              <tr key={c.element_uuid} class="removed">
                <td>
                  <a href={`#/elements/${c.element_uuid}`}>{nameOf(c.element_uuid)}</a>
                </td>
                <td>{c.element_type}</td>
                <td class="del">{c.release}</td>
                <td>—</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {pr.artifacts.length > 0 && (
        <>
          <h3>Release artifacts</h3>
          <ul>
            {pr.artifacts.map((a) => (
              <li key={`${a.element_uuid}/${a.version}`}>
                <a href={`#/elements/${a.element_uuid}`}>{nameOf(a.element_uuid)}</a> {a.version} · {a.size} bytes · sha256 <code>{a.sha256.slice(0, 12)}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {verdicts && (
        <>
          <h3>Policy (if merged now)</h3>
          <Verdicts verdicts={verdicts} />
        </>
      )}
      {approvals && (
        <>
          <h3>Approvals</h3>
          {approvals.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <ul>
              {approvals.map((a) => (
                <li key={a.approver}>
                  {a.approver} · {when(a.approved_at)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <h3>Description</h3>
      <pre class="body">{pr.body}</pre>
    </section>
  );
}
