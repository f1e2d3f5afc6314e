import { useLayoutEffect, useState } from 'preact/hooks';

/** Hash routes: `#/overview`, `#/profiles`, `#/profiles/<ref>`, `#/segments`, `#/segments/new`, `#/segments/<id>`, `#/journeys`, `#/reports`, `#/offers`, `#/lookalikes`, `#/models`, `#/models/<score>`. */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'profiles'; readonly ref?: string }
  | { readonly page: 'segments'; readonly id?: string }
  | { readonly page: 'journeys' }
  | { readonly page: 'reports' }
  | { readonly page: 'offers' }
  | { readonly page: 'lookalikes' }
  | { readonly page: 'models'; readonly score?: string }
  | { readonly page: 'not-found'; readonly path: string };

/** The route of a hash; undefined for an in-page anchor such as the skip link's `#main` (the page stays). */
export function parseRoute(hash: string): Route | undefined {
  if (hash !== '' && hash !== '#' && !hash.startsWith('#/')) return undefined;
  const path = hash.replace(/^#/, '') || '/overview';
  const [, section = '', rest] = /^\/([^/]*)(?:\/(.*))?$/.exec(path) ?? [];
  const detail = rest ? decodeURIComponent(rest) : undefined;
  switch (section) {
    case '':
    case 'overview':
      return { page: 'overview' };
    case 'profiles':
      return detail ? { page: 'profiles', ref: detail } : { page: 'profiles' };
    case 'segments':
      return detail ? { page: 'segments', id: detail } : { page: 'segments' };
    case 'journeys':
      return { page: 'journeys' };
    case 'reports':
      return { page: 'reports' };
    case 'offers':
      return { page: 'offers' };
    case 'lookalikes':
      return { page: 'lookalikes' };
    case 'models':
      return detail ? { page: 'models', score: detail } : { page: 'models' };
    default:
      return { page: 'not-found', path };
  }
}

export const profileHref = (ref: string): string => `#/profiles/${encodeURIComponent(ref)}`;
export const segmentHref = (id: string): string => `#/segments/${encodeURIComponent(id)}`;
export const modelHref = (score: string): string => `#/models/${encodeURIComponent(score)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash) ?? { page: 'overview' });
  // A layout effect: listening from the first render on, so no hash change right after mounting is missed.
  useLayoutEffect(() => {
    const changed = (): void => {
      const next = parseRoute(location.hash);
      if (next) setRoute(next);
    };
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}
