import { wsProtocolsFor } from '../protocol.js';

/**
 * The page's credential: the token qemunet web printed in the URL's fragment (a browser never sends
 * a fragment to a server). It is taken out of the address bar at once and kept in sessionStorage,
 * which only pages of this origin (this port included) can read and which survives a reload; the
 * page sends it itself on every request. No cookie: a browser would send a cookie of 127.0.0.1 to
 * every other server on 127.0.0.1 too.
 */
const KEY = 'qemunet-token';
let kept: string | undefined;

function token(): string | undefined {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    kept = m[1]!;
    try {
      sessionStorage.setItem(KEY, kept);
    } catch {
      // Storage refused (a locked-down browser): the token lasts as long as this page.
    }
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (kept) return kept;
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Whether the page has a token at all (none: it was opened without the URL qemunet web printed). */
export function hasToken(): boolean {
  return token() !== undefined;
}

/** fetch() with the token in an Authorization header. */
export function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const t = token();
  const headers = new Headers(init.headers);
  if (t) headers.set('Authorization', `Bearer ${t}`);
  return fetch(path, { ...init, headers, credentials: 'omit' });
}

/** The subprotocols a websocket offers: the one the server answers, and one carrying the token (security.ts reads it). */
export function wsProtocols(): string[] {
  return wsProtocolsFor(token());
}

/** The ws:// (or wss://) URL of a path of this server. */
export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
