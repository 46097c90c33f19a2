// Small pieces every page uses: the error banner, the modal dialog, dates, a line diff.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api.js';

/** A problem document's message, code and request_id, as mir sent them. */
export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(String((error as Error)?.message ?? error), 'client_error', 0, null);
  const conflicts = Array.isArray(e.problem.conflicts) ? (e.problem.conflicts as Record<string, unknown>[]) : [];
  const entries = Array.isArray(e.problem.entries) ? (e.problem.entries as Record<string, unknown>[]) : [];
  const holds = Array.isArray(e.problem.holds) ? (e.problem.holds as Record<string, unknown>[]) : [];
  const verdicts = Array.isArray(e.problem.verdicts) ? (e.problem.verdicts as Record<string, unknown>[]) : [];
  return (
    <div class="error" role="alert">
      <p>
        <strong>{e.message}</strong>
      </p>
      <p class="muted">
        code <code>{e.code}</code>
        {e.status ? ` · HTTP ${e.status}` : ''}
        {e.requestId ? (
          <>
            {' '}
            · request_id <code class="request-id">{e.requestId}</code>
          </>
        ) : null}
      </p>
      {[...conflicts, ...entries, ...holds, ...verdicts].length > 0 && (
        <ul>
          {[...conflicts, ...entries, ...holds, ...verdicts].map((item, i) => (
            <li key={i}>
              <code>{JSON.stringify(item)}</code>
            </li>
          ))}
        </ul>
      )}
      {onDismiss && (
        <button type="button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

/** A modal <dialog>: focus stays inside, Escape closes it (the browser's own behaviour). */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'wide' : ''} aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <header>
        <h2 id="dialog-title">{title}</h2>
        <button type="button" class="close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export type DiffLine = { kind: ' ' | '-' | '+'; text: string };

/**
 * The lines that differ between two texts, with `context` unchanged lines around each change. The
 * common head and tail are trimmed; a middle of equal length is compared line by line (an entry
 * whose release changed), any other middle is shown as removed then added.
 */
export function lineDiff(before: string | null, after: string | null, context = 2): DiffLine[] {
  const a = before === null ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === null ? [] : after.replace(/\n$/, '').split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const all: DiffLine[] = a.slice(0, head).map((text) => ({ kind: ' ', text }));
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  if (midA.length === midB.length) {
    midA.forEach((text, i) => {
      if (text === midB[i]) all.push({ kind: ' ', text });
      else all.push({ kind: '-', text }, { kind: '+', text: midB[i]! });
    });
  } else {
    all.push(...midA.map((text): DiffLine => ({ kind: '-', text })), ...midB.map((text): DiffLine => ({ kind: '+', text })));
  }
  all.push(...a.slice(a.length - tail).map((text): DiffLine => ({ kind: ' ', text })));
  const keep = all.map(() => false);
  all.forEach((line, i) => {
    if (line.kind === ' ') return;
    for (let j = Math.max(0, i - context); j <= Math.min(all.length - 1, i + context); j++) keep[j] = true;
  });
  const out: DiffLine[] = [];
  all.forEach((line, i) => {
    if (keep[i]) out.push(line);
    else if (i > 0 && keep[i - 1]) out.push({ kind: ' ', text: '…' });
  });
  return out;
}

export function Diff({ before, after }: { before: string | null; after: string | null }) {
  const lines = lineDiff(before, after);
  return (
    <pre class="diff">
      {lines.map((line, i) => (
        <div key={i} class={line.kind === '-' ? 'del' : line.kind === '+' ? 'add' : 'ctx'}>
          {line.kind} {line.text}
        </div>
      ))}
    </pre>
  );
}

export function Verdicts({
  verdicts,
}: {
  verdicts: readonly { gate: string; manifest: string; rule: string; status: string; reason: string; until: string | null }[] | undefined;
}) {
  if (!verdicts || verdicts.length === 0) return <p class="muted">No hold or policy applies.</p>;
  return (
    <ul class="verdicts">
      {verdicts.map((v, i) => (
        <li key={i} class={`verdict ${v.status}`}>
          <span class="badge">{v.status}</span> {v.manifest} · {v.gate}/{v.rule}: {v.reason}
          {v.until ? ` (until ${when(v.until)})` : ''}
        </li>
      ))}
    </ul>
  );
}
