import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, checkToken, createApi } from './api';
import { LookalikesPage, OffersPage } from './pages/activation';
import { JourneysPage } from './pages/journeys';
import { ModelPage, ModelsPage } from './pages/models';
import { OverviewPage } from './pages/overview';
import { ProfilePage, ProfileSearchPage } from './pages/profiles';
import { ReportsPage } from './pages/reports';
import { SegmentPage, SegmentsPage } from './pages/segments';
import { type Route, useRoute } from './router';
import { forgetToken, storedToken, storeToken } from './session';

type SignInProblem = 'refused' | 'unreachable' | 'expired' | undefined;

function SignIn({ onSignedIn, problem: initialProblem }: { readonly onSignedIn: (token: string) => void; readonly problem: SignInProblem }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<SignInProblem>(initialProblem);
  const [checking, setChecking] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = problem === 'unreachable' ? 'API unreachable · Console' : 'Sign in · Console';
    heading.current?.focus();
  }, [problem]);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setChecking(true);
    const result = await checkToken(token.trim());
    setChecking(false);
    if (result === 'ok') onSignedIn(token.trim());
    else {
      setProblem(result);
      setToken(result === 'refused' ? '' : token);
    }
  };
  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      {problem === 'unreachable' ? (
        <section class="panel" aria-labelledby="sign-in-title" data-screen="api-down">
          <h1 id="sign-in-title" ref={heading} tabIndex={-1}>
            The API cannot be reached
          </h1>
          <p role="alert">The platform's admin API did not answer. Check that the platform is running (`npm start` locally), then try again.</p>
          <button type="button" class="primary" onClick={() => setProblem(undefined)}>
            Try again
          </button>
        </section>
      ) : (
        <section class="panel" aria-labelledby="sign-in-title" data-screen="sign-in">
          <h1 id="sign-in-title" ref={heading} tabIndex={-1}>
            Sign in to the console
          </h1>
          {problem === 'refused' && (
            <p class="note error" role="alert" id="sign-in-error">
              This admin token was refused. Check it and try again.
            </p>
          )}
          {problem === 'expired' && (
            <p class="note error" role="alert" id="sign-in-error">
              The admin token is no longer accepted: sign in again.
            </p>
          )}
          <form onSubmit={submit}>
            <label class="field" for="token">
              Admin token
            </label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="off"
              required
              value={token}
              aria-describedby={problem === 'refused' || problem === 'expired' ? 'sign-in-error token-help' : 'token-help'}
              onInput={(event) => setToken(event.currentTarget.value)}
            />
            <p id="token-help" class="muted">
              The platform's `DMP_ADMIN_TOKEN` (`dev-admin-token` locally by default). It is kept in this tab only and forgotten when the tab closes.
            </p>
            <button type="submit" class="primary" disabled={checking || token.trim() === ''}>
              {checking ? 'Checking…' : 'Sign in'}
            </button>
          </form>
        </section>
      )}
    </main>
  );
}

const NAVIGATION = [
  { page: 'overview', href: '#/overview', label: 'Overview' },
  { page: 'profiles', href: '#/profiles', label: 'Profiles' },
  { page: 'segments', href: '#/segments', label: 'Segments' },
  { page: 'journeys', href: '#/journeys', label: 'Journeys' },
  { page: 'reports', href: '#/reports', label: 'Reports' },
  { page: 'offers', href: '#/offers', label: 'Offers' },
  { page: 'lookalikes', href: '#/lookalikes', label: 'Lookalikes' },
  { page: 'models', href: '#/models', label: 'Models' },
] as const;

function Page({ route, api }: { readonly route: Route; readonly api: Api }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage api={api} />;
    case 'profiles':
      return route.ref ? <ProfilePage api={api} profileRef={route.ref} /> : <ProfileSearchPage />;
    case 'segments':
      return route.id ? <SegmentPage api={api} segmentId={route.id} /> : <SegmentsPage api={api} />;
    case 'reports':
      return <ReportsPage api={api} />;
    case 'journeys':
      return <JourneysPage api={api} />;
    case 'offers':
      return <OffersPage api={api} />;
    case 'lookalikes':
      return <LookalikesPage api={api} />;
    case 'models':
      return route.score ? <ModelPage api={api} score={route.score} /> : <ModelsPage api={api} />;
    case 'not-found':
      return (
        <>
          <h1>Page not found</h1>
          <p>
            Nothing here. <a href="#/overview">Go to the overview</a>.
          </p>
        </>
      );
  }
}

function Shell({ api, onSignOut, focusFirstPage }: { readonly api: Api; readonly onSignOut: () => void; readonly focusFirstPage: boolean }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // On a route change, focus moves to the new page's heading, as a page load would: to main at
  // once, then to the heading as soon as the page shows it (pages that load data show it later),
  // unless the user has moved the focus meanwhile.
  useLayoutEffect(() => {
    const container = main.current;
    if (!container) return;
    if (first.current) {
      first.current = false;
      // A page load leaves the focus at the top (the skip link comes first); after sign-in the
      // button that had it is gone, so the focus goes to the first page's heading.
      if (!focusFirstPage) return;
    }
    const focusHeading = (): boolean => {
      const heading = container.querySelector<HTMLElement>('h1');
      if (!heading) return false;
      heading.tabIndex = -1;
      heading.focus();
      return true;
    };
    if (focusHeading()) return;
    container.focus();
    const observer = new MutationObserver(() => {
      if (document.activeElement !== container || focusHeading()) observer.disconnect();
    });
    observer.observe(container, { childList: true, subtree: true });
    const timer = setTimeout(() => observer.disconnect(), 10_000);
    return () => {
      observer.disconnect();
      clearTimeout(timer);
    };
  }, [route]);
  useEffect(() => {
    const heading = main.current?.querySelector('h1')?.textContent;
    document.title = `${heading || 'Console'} · Console`;
  });
  return (
    <>
      {/* Plain in-page link: the router ignores hashes that are not routes (#main), and main takes the focus. */}
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Serverless CDP console</p>
        <nav aria-label="Main">
          <ul>
            {NAVIGATION.map((item) => (
              <li key={item.page}>
                <a href={item.href} aria-current={route.page === item.page ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1} data-page={route.page}>
        <Page route={route} api={api} />
      </main>
    </>
  );
}

export function App() {
  const [token, setToken] = useState<string | null>(() => storedToken());
  const [problem, setProblem] = useState<SignInProblem>(undefined);
  const [signedInNow, setSignedInNow] = useState(false);
  const api = useMemo(
    () =>
      token
        ? createApi(token, () => {
            forgetToken();
            setProblem('expired');
            setToken(null);
          })
        : undefined,
    [token],
  );
  if (!api)
    return (
      <SignIn
        problem={problem}
        onSignedIn={(accepted) => {
          storeToken(accepted);
          setProblem(undefined);
          setSignedInNow(true);
          setToken(accepted);
        }}
      />
    );
  return (
    <Shell
      api={api}
      focusFirstPage={signedInNow}
      onSignOut={() => {
        forgetToken();
        setToken(null);
      }}
    />
  );
}
