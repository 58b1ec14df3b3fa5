/**
 * The session this page shows: `?session=DIR` in its address, or none for the session qemunet web
 * was started on. Every request and websocket of the page names it, so each browser (each tab) shows
 * its own session and choosing another one in one page moves no other page.
 */
const shown = new URLSearchParams(location.search).get('session') ?? undefined;

/** `path` with this page's session added to its query. */
export function withSession(path: string): string {
  if (!shown) return path;
  return `${path}${path.includes('?') ? '&' : '?'}session=${encodeURIComponent(shown)}`;
}

/** Shows another session in this page (a new address: consoles and panels start afresh). */
export function showSession(dir: string): void {
  location.assign(`${location.pathname}?session=${encodeURIComponent(dir)}`);
}
