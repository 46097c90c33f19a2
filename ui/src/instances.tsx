// Instances: which manifest each follows, when it last polled, its last deployment and its drift
// (the elements whose deployed release is not the one its manifest sets, from the matrix).
import { useEffect, useState } from 'preact/hooks';
import { unwrap, type Matrix, type Schemas, type Session } from './api.js';
import { ErrorBanner, when } from './common.js';
import { isDrift } from './matrix.js';

export function InstancesPage({ session, matrix }: { session: Session; matrix: Matrix | null }) {
  const [deployments, setDeployments] = useState<Map<string, Schemas['Deployment']>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const instances = matrix?.instances ?? [];
  useEffect(() => {
    if (!session.canReadInstances || instances.length === 0) return;
    Promise.all(
      instances.map((i) =>
        unwrap(session.client.GET('/api/v2/source_control/deployments', { params: { query: { instance: i.name, limit: 1 } } })).then(
          (list) => [i.name, list[0]] as const,
        ),
      ),
    ).then((pairs) => setDeployments(new Map(pairs.filter((p): p is readonly [string, Schemas['Deployment']] => p[1] !== undefined))), setError);
  }, [session, matrix]);
  if (!session.canReadInstances) return <p>This token may not read instances (it needs source_control:read).</p>;
  if (!matrix) return <p aria-busy="true">Loading…</p>;
  const drift = (name: string) => matrix.elements.filter((e) => isDrift(e.instances[name])).length;
  return (
    <section aria-labelledby="instances-title">
      <h2 id="instances-title">Instances</h2>
      <ErrorBanner error={error} />
      {instances.length === 0 && <p class="muted">No instance registered.</p>}
      {instances.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Manifest</th>
              <th scope="col">Last seen</th>
              <th scope="col">Last deployment</th>
              <th scope="col">Drift</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((i) => {
              const d = deployments.get(i.name);
              const n = drift(i.name);
              return (
                <tr key={i.name}>
                  <td>
                    <strong>{i.name}</strong> {i.url && <span class="muted small">{i.url}</span>}
                    <div class="muted small">{i.description}</div>
                  </td>
                  <td>{i.manifest ?? <span class="muted">unbound</span>}</td>
                  <td>{when(i.last_seen_at)}</td>
                  <td>{d ? `${d.status} · ${when(d.created_at)}` : '—'}</td>
                  <td>
                    {n === 0 ? (
                      'in sync'
                    ) : (
                      <span class="badge drift">
                        {n} element{n === 1 ? '' : 's'}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
