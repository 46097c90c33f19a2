// Compare two manifests (or instances) and promote one to the other (uat → prod): the differences
// with the releases in between, a dry run of the promotion, then one pull request.
import { useEffect, useState } from 'preact/hooks';
import { unwrap, type DryRun, type Matrix, type Schemas, type Session } from './api.js';
import { Diff, ErrorBanner, Verdicts } from './common.js';

export function ComparePage({ session, matrix }: { session: Session; matrix: Matrix | null }) {
  const manifests = matrix?.manifests ?? [];
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [comparison, setComparison] = useState<Schemas['Comparison'] | null>(null);
  const [dryRun, setDryRun] = useState<DryRun | null>(null);
  const [opened, setOpened] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!from && manifests.length > 1) setFrom(manifests.includes('uat') ? 'uat' : manifests[0]!);
    if (!to && manifests.length > 1) setTo(manifests.includes('prod') ? 'prod' : manifests[1]!);
  }, [matrix]);
  useEffect(() => {
    setComparison(null);
    setDryRun(null);
    if (!from || !to || from === to) return;
    unwrap(session.client.GET('/api/v2/source_control/compare', { params: { query: { from, to } } })).then(setComparison, setError);
  }, [session, from, to]);
  const promote = (dry: boolean) =>
    unwrap(session.client.POST('/api/v2/source_control/promote', { params: { query: dry ? { dry_run: true } : {} }, body: { from, to } }));
  const pick = (value: string, set: (v: string) => void, label: string) => (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => set(e.currentTarget.value)}>
        {manifests.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section aria-labelledby="compare-title">
      <div class="toolbar">
        <h2 id="compare-title">Compare & promote</h2>
        {pick(from, setFrom, 'From')}
        {pick(to, setTo, 'To')}
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {comparison && (
        <>
          <p class="muted">
            {comparison.differences.length} differences · {comparison.only_in_from.length} only in {from} · {comparison.only_in_to.length} only in {to}
          </p>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Element</th>
                <th scope="col">{from}</th>
                <th scope="col">{to}</th>
                <th scope="col">Behind</th>
                <th scope="col">Releases in between</th>
              </tr>
            </thead>
            <tbody>
              {comparison.differences.map((d) => (
                <tr key={d.element_uuid}>
                  <td>
                    <a href={`#/elements/${d.element_uuid}`}>{d.name ?? d.element_uuid}</a>
                  </td>
                  <td>{d.from_release}</td>
                  <td>{d.to_release}</td>
                  <td>{d.behind ?? '—'}</td>
                  <td>{d.releases.map((r) => `${r.release_version}: ${r.release_description}`).join('; ') || '—'}</td>
                </tr>
              ))}
              {comparison.only_in_from.map((d) => (
                <tr key={d.element_uuid}>
                  <td>
                    <a href={`#/elements/${d.element_uuid}`}>{d.name ?? d.element_uuid}</a>
                  </td>
                  <td>{d.release}</td>
                  <td>—</td>
                  <td />
                  <td />
                </tr>
              ))}
            </tbody>
          </table>
          {session.canWrite && comparison.differences.length + comparison.only_in_from.length > 0 && (
            <div class="actions left">
              <button type="button" onClick={() => void promote(true).then((a) => setDryRun('dry_run' in a ? a : null), setError)}>
                Preview promotion
              </button>
              <button
                type="button"
                class="primary"
                disabled={!dryRun}
                onClick={() =>
                  void promote(false).then((a) => {
                    if ('number' in a.pull_request) setOpened(a.pull_request.number);
                  }, setError)
                }
              >
                Promote {from} → {to}
              </button>
            </div>
          )}
          {dryRun && (
            <div class="dry-run">
              {dryRun.manifests.map((m) => (
                <Diff key={m.name} before={m.before} after={m.after} />
              ))}
              <Verdicts verdicts={dryRun.policy} />
            </div>
          )}
          {opened !== null && (
            <p class="notice" role="status">
              Promotion proposed in <a href={`#/pulls/${opened}`}>pull request #{opened}</a>.
            </p>
          )}
        </>
      )}
    </section>
  );
}
