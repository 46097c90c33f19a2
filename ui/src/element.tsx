// One element: its releases (descriptions, authors, holds, pending ones), where each runs now (the
// manifests that set it, and what the instances following them report), creating a release
// (major/minor/patch, previewed as a dry run first) and its hotfix lines.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { unwrap, type Matrix, type Release, type Schemas, type Session } from './api.js';
import { ErrorBanner, when } from './common.js';
import { HotfixLines } from './hotfixes.js';

type Bump = 'major' | 'minor' | 'patch';

export function ElementPage({ session, matrix, uuid, onChanged }: { session: Session; matrix: Matrix | null; uuid: string; onChanged: () => Promise<void> }) {
  const element = matrix?.elements.find((e) => e.uuid === uuid);
  const [releases, setReleases] = useState<Release[] | null>(null);
  const [hotfixes, setHotfixes] = useState<Schemas['Hotfix'][] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    if (!element) return;
    try {
      setReleases(
        await unwrap(
          session.client.GET('/api/v2/source_control/releases/{elementUuid}', {
            params: { path: { elementUuid: uuid }, query: { elementType: element.type } },
          }),
        ),
      );
      setHotfixes((await unwrap(session.client.GET('/api/v2/source_control/hotfixes', { params: { query: { element_uuid: uuid } } }))).hotfixes);
    } catch (e) {
      setError(e);
    }
  }, [session, uuid, element?.type]);
  useEffect(() => {
    void load();
  }, [load, matrix]);

  if (!matrix) return <p aria-busy="true">Loading…</p>;
  if (!element) return <p>No protected element {uuid} on the default branch.</p>;
  const runs = new Map<string, string[]>();
  for (const [manifest, release] of Object.entries(element.manifests)) if (release) runs.set(release, [...(runs.get(release) ?? []), manifest]);
  const instancesOf = (manifest: string) => matrix.instances.filter((i) => i.manifest === manifest).map((i) => i.name);
  return (
    <section aria-labelledby="element-title">
      <p>
        <a href="#/">← Matrix</a>
      </p>
      <h2 id="element-title">
        {element.name} <span class={`type ${element.type}`}>{element.type === 'PAGE' ? 'app' : 'workflow'}</span>
      </h2>
      <p class="muted">
        <code>{element.uuid}</code> · source <code>{element.source_folder}</code> · latest {element.latest_release ?? 'none'} · {element.releases_count}{' '}
        releases
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <h3>Where it runs</h3>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Manifest</th>
            <th scope="col">Release</th>
            <th scope="col">Instances (deployed)</th>
          </tr>
        </thead>
        <tbody>
          {matrix.manifests.map((m) => (
            <tr key={m}>
              <td>{m}</td>
              <td>{element.manifests[m] ?? '—'}</td>
              <td>
                {instancesOf(m)
                  .map((name) => `${name} (${element.instances[name]?.deployed ?? 'not reported'})`)
                  .join(', ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {session.canWrite && <CreateRelease session={session} uuid={uuid} type={element.type} onCreated={() => void load().then(onChanged)} />}
      <h3>Releases</h3>
      {releases && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Description</th>
              <th scope="col">Author</th>
              <th scope="col">Created</th>
              <th scope="col">Runs in</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {releases.map((r) => (
              <tr key={r.release_version}>
                <td>
                  <strong>{r.release_version}</strong>
                </td>
                <td>{r.release_description || <span class="muted">—</span>}</td>
                <td>{r.created_by ?? '—'}</td>
                <td>{when(r.created_at)}</td>
                <td>{(runs.get(r.release_version) ?? []).join(', ') || '—'}</td>
                <td>
                  {r.status === 'pending' ? <a href={`#/pulls/${r.pull_request?.number}`}>pending #{r.pull_request?.number}</a> : 'available'}
                  {r.hold && <span class="badge held"> held: {r.hold.reason}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {releases && hotfixes && (
        <HotfixLines session={session} uuid={uuid} type={element.type} releases={releases} hotfixes={hotfixes} onChanged={() => void load().then(onChanged)} />
      )}
    </section>
  );
}

function CreateRelease({ session, uuid, type, onCreated }: { session: Session; uuid: string; type: 'PAGE' | 'WORKFLOW'; onCreated: () => void }) {
  const [bump, setBump] = useState<Bump>('minor');
  const [description, setDescription] = useState('');
  const [preview, setPreview] = useState<Schemas['ReleaseDryRun'] | null>(null);
  const [created, setCreated] = useState<{ number: number; version: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const send = (dryRun: boolean) =>
    unwrap(
      session.client.POST('/api/v2/source_control/releases/{elementUuid}', {
        params: { path: { elementUuid: uuid }, query: { elementType: type, ...(dryRun ? { dry_run: true } : {}) } },
        body: { bump, ...(description ? { release_description: description } : {}) },
      }),
    );
  return (
    <form
      class="panel"
      aria-labelledby="create-release-title"
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        setCreated(null);
        send(true).then((answer) => setPreview('dry_run' in answer ? answer : null), setError);
      }}
    >
      <h3 id="create-release-title">Create a release</h3>
      <fieldset class="inline">
        <legend>Bump</legend>
        {(['major', 'minor', 'patch'] as const).map((b) => (
          <label key={b}>
            <input type="radio" name="bump" value={b} checked={bump === b} onChange={() => (setBump(b), setPreview(null))} /> {b}
          </label>
        ))}
      </fieldset>
      <label>
        Description
        <textarea value={description} rows={2} onInput={(e) => (setDescription(e.currentTarget.value), setPreview(null))} />
      </label>
      <div class="actions left">
        <button type="submit">Preview</button>
        <button
          type="button"
          class="primary"
          disabled={!preview}
          onClick={() =>
            void send(false).then((answer) => {
              if ('release_version' in answer && 'number' in answer.pull_request) {
                setCreated({ number: answer.pull_request.number, version: answer.release_version });
                setPreview(null);
                onCreated();
              }
            }, setError)
          }
        >
          Create release {preview?.release_version ?? ''}
        </button>
      </div>
      <ErrorBanner error={error} />
      {preview && (
        <div class="dry-run">
          <p>
            Would propose <strong>{preview.release_version}</strong> ({preview.size} bytes, sha256 <code>{preview.sha256.slice(0, 12)}</code>) on branch{' '}
            <code>{preview.branch_name}</code>: {preview.pull_request.title}
          </p>
          <ul>
            {preview.files.map((f) => (
              <li key={f.path}>
                {f.change} <code>{f.path}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {created && (
        <p class="notice" role="status">
          Release {created.version} proposed in <a href={`#/pulls/${created.number}`}>pull request #{created.number}</a>.
        </p>
      )}
    </form>
  );
}
