// The shell: sign-in (the token lives in sessionStorage only: never in a URL, never logged), the
// hash routes, the release matrix shared by the pages, and live updates from the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, loadMatrix, openSession, TOKEN_KEY, type Matrix, type Session } from './api.js';
import { ErrorBanner } from './common.js';
import { ComparePage } from './compare.js';
import { ElementPage } from './element.js';
import { InstancesPage } from './instances.js';
import { MatrixPage } from './matrix.js';
import { PullRequestPage, PullRequestsPage } from './pulls.js';
import { followStream, StreamRefused, type StreamStatus } from './sse.js';

/** Events after which the matrix is read again (debounced). */
const REFRESH_ON = /^(pull_request\.|manifest\.|release\.|hold\.|hotfix\.|deployment\.|drift\.|instance\.)/;
const REFRESH_DEBOUNCE_MS = 250;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [signingIn, setSigningIn] = useState(() => sessionStorage.getItem(TOKEN_KEY) !== null);
  const [error, setError] = useState<unknown>(null);

  const signIn = useCallback(async (token: string) => {
    setSigningIn(true);
    try {
      const opened = await openSession(token);
      sessionStorage.setItem(TOKEN_KEY, token);
      setSession(opened);
      setError(null);
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      setError(e);
    } finally {
      setSigningIn(false);
    }
  }, []);
  useEffect(() => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) void signIn(saved);
  }, [signIn]);
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
  };

  if (!session) return <SignIn busy={signingIn} error={error} onSubmit={signIn} />;
  return <Dashboard session={session} onSignOut={signOut} />;
}

function SignIn({ busy, error, onSubmit }: { busy: boolean; error: unknown; onSubmit: (token: string) => Promise<void> }) {
  const [token, setToken] = useState('');
  return (
    <main class="signin">
      <h1>mir — releases</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) void onSubmit(token.trim());
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          placeholder="mir_…"
          required
        />
        <p class="muted">Kept in this tab's session storage only; the dashboard shows the actions its scopes allow.</p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorBanner error={error} />
    </main>
  );
}

function Dashboard({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const hash = useHash();
  const [matrix, setMatrix] = useState<Matrix | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<StreamStatus>({ state: 'connecting' });
  /** Bumped by every event: pages showing one pull request read it again. */
  const [tick, setTick] = useState(0);
  const loading = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const reload = useCallback(async () => {
    // One read at a time; a reload asked for meanwhile runs once after it.
    if (loading.current) {
      again.current = true;
      return loading.current;
    }
    const run = (async () => {
      do {
        again.current = false;
        try {
          setMatrix(await loadMatrix(session));
        } catch (e) {
          setError(e);
        }
      } while (again.current);
      loading.current = null;
    })();
    loading.current = run;
    return run;
  }, [session]);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = followStream({
      open: async (lastEventId, signal) => {
        const { data, error, response } = await session.client.GET('/api/v2/source_control/events', {
          parseAs: 'stream',
          signal,
          ...(lastEventId ? { headers: { 'last-event-id': lastEventId } } : {}),
        });
        if (!response.ok || !data) {
          const problem = new ApiError(`the event stream answered ${response.status}`, 'event_stream', response.status, response.headers.get('x-request-id'));
          void error;
          if ([401, 403, 404].includes(response.status)) throw new StreamRefused(problem.message);
          throw problem;
        }
        return data as ReadableStream<Uint8Array>;
      },
      onEvent: (event) => {
        setTick((n) => n + 1);
        if (event.event === 'reset' || REFRESH_ON.test(event.event)) {
          clearTimeout(timer);
          timer = setTimeout(() => void reload(), REFRESH_DEBOUNCE_MS);
        }
      },
      onStatus: setLive,
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [session, reload]);

  const route = hash.replace(/^#/, '');
  const pull = /^\/pulls\/(\d+)$/.exec(route);
  const elementRoute = /^\/elements\/([0-9a-f-]{36})$/.exec(route);
  const nav = [
    ['#/', 'Matrix'],
    ['#/pulls', 'Pull requests'],
    ['#/compare', 'Compare & promote'],
    ['#/instances', 'Instances'],
  ] as const;
  const current = pull ? '#/pulls' : elementRoute ? '#/' : `#${route}`;
  let page;
  if (pull) page = <PullRequestPage session={session} matrix={matrix} number={Number(pull[1])} tick={tick} onChanged={reload} />;
  else if (elementRoute) page = <ElementPage session={session} matrix={matrix} uuid={elementRoute[1]!} onChanged={reload} />;
  else if (route === '/pulls') page = <PullRequestsPage session={session} tick={tick} />;
  else if (route === '/compare') page = <ComparePage session={session} matrix={matrix} />;
  else if (route === '/instances') page = <InstancesPage session={session} matrix={matrix} />;
  else page = <MatrixPage session={session} matrix={matrix} onChanged={reload} />;

  return (
    <>
      <header class="top">
        <h1>
          <a href="#/">mir</a>
        </h1>
        <nav aria-label="Main">
          {nav.map(([href, label]) => (
            <a key={href} href={href} aria-current={current === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`live ${live.state}`} role="status" title="Live updates from the event stream">
          {live.state === 'open' ? 'live' : live.state === 'waiting' ? 'reconnecting' : live.state === 'stopped' ? 'not live' : 'connecting'}
        </span>
        <span class="who" title={session.scopes.join(', ')}>
          {session.name} · {session.canWrite ? 'read & write' : 'read only'}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {page}
      </main>
    </>
  );
}
