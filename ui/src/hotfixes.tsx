// An element's hotfix lines on its page: open one from a release (POST /hotfixes), see the commits
// pushed to its branch (GET /hotfixes/{id}), propose its patch release or abandon it. The fix itself
// is committed to the line's branch with any git client; the page says which branch.
import { useState } from 'preact/hooks';
import { unwrap, type Release, type Schemas, type Session } from './api.js';
import { ErrorBanner, when } from './common.js';

type Hotfix = Schemas['Hotfix'];
type Commit = { sha: string; message: string; author: string; committed_at: string };

interface HotfixLinesProps {
  readonly session: Session;
  readonly uuid: string;
  readonly type: 'PAGE' | 'WORKFLOW';
  readonly releases: readonly Release[];
  readonly hotfixes: readonly Hotfix[];
  readonly onChanged: () => void;
}

export function HotfixLines({ session, uuid, type, releases, hotfixes, onChanged }: HotfixLinesProps) {
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [commits, setCommits] = useState<Record<string, Commit[]>>({});
  const available = releases.filter((r) => r.status !== 'pending');
  const [base, setBase] = useState('');
  const chosen = base || available[0]?.release_version || '';
  const done = (message: string) => {
    setError(null);
    setNotice(message);
    onChanged();
  };
  const open = () =>
    unwrap(session.client.POST('/api/v2/source_control/hotfixes', { body: { element_uuid: uuid, element_type: type, release: chosen } })).then(
      (answer) => done('hotfix' in answer ? `Opened the hotfix line ${answer.hotfix.line}: commit the fix to ${answer.hotfix.branch}.` : ''),
      setError,
    );
  const showCommits = (id: string) =>
    unwrap(session.client.GET('/api/v2/source_control/hotfixes/{id}', { params: { path: { id } } })).then(
      (answer) => setCommits((all) => ({ ...all, [id]: answer.commits })),
      setError,
    );
  const release = (h: Hotfix) =>
    unwrap(session.client.POST('/api/v2/source_control/hotfixes/{id}/release', { params: { path: { id: h.id } }, body: {} })).then(
      (answer) => done('number' in answer.pull_request ? `Proposed the patch release of ${h.line} in pull request #${answer.pull_request.number}.` : ''),
      setError,
    );
  const abandon = (h: Hotfix) => {
    if (!window.confirm(`Abandon the hotfix line ${h.line}? Its branch is deleted.`)) return;
    void unwrap(session.client.POST('/api/v2/source_control/hotfixes/{id}/abandon', { params: { path: { id: h.id } } })).then(
      () => done(`Abandoned the hotfix line ${h.line}.`),
      setError,
    );
  };

  return (
    <section aria-labelledby="hotfixes-title">
      <h3 id="hotfixes-title">Hotfix lines</h3>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {session.canWrite && available.length > 0 && (
        <form
          class="inline"
          aria-label="Open a hotfix line"
          onSubmit={(e) => {
            e.preventDefault();
            void open();
          }}
        >
          <label>
            From release{' '}
            <select value={chosen} onChange={(e) => setBase(e.currentTarget.value)}>
              {available.map((r) => (
                <option key={r.release_version} value={r.release_version}>
                  {r.release_version}
                </option>
              ))}
            </select>
          </label>{' '}
          <button type="submit">Open hotfix line</button>
        </form>
      )}
      {hotfixes.length === 0 && <p class="muted">No hotfix.</p>}
      {hotfixes.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">From</th>
              <th scope="col">Branch</th>
              <th scope="col">State</th>
              <th scope="col">Release</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {hotfixes.map((h) => (
              <tr key={h.id} data-hotfix={h.line}>
                <td>{h.line}</td>
                <td>{h.base_version}</td>
                <td>
                  <code>{h.branch}</code>
                  {commits[h.id] && <CommitList commits={commits[h.id]!} />}
                </td>
                <td>{h.state}</td>
                <td>{h.pull_request ? <a href={`#/pulls/${h.pull_request.number}`}>{h.release_version ?? `#${h.pull_request.number}`}</a> : '—'}</td>
                <td class="actions left">
                  <button type="button" onClick={() => void showCommits(h.id)}>
                    Commits
                  </button>
                  {session.canWrite && h.state === 'open' && (
                    <>
                      <button type="button" class="primary" onClick={() => void release(h)}>
                        Release patch
                      </button>
                      <button type="button" onClick={() => abandon(h)}>
                        Abandon
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CommitList({ commits }: { commits: readonly Commit[] }) {
  if (commits.length === 0) return <p class="muted">No commit on the branch yet.</p>;
  return (
    <ul class="commits">
      {commits.map((c) => (
        <li key={c.sha}>
          <code>{c.sha.slice(0, 10)}</code> {c.message.split('\n')[0]}{' '}
          <span class="muted">
            · {c.author} · {when(c.committed_at)}
          </span>
        </li>
      ))}
    </ul>
  );
}
