import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { httpStatus, type ErrorCode } from '../../errors.js';
import { WS_BEARER_PREFIX } from '../protocol.js';

/**
 * The checks every request goes through (pure functions, unit-tested): the Host header against an
 * exact allow-list (DNS rebinding), the Origin exactly (cross-site websocket hijacking, another
 * port of localhost included), and the token (constant-time compare).
 *
 * No cookie: a browser sends a cookie of 127.0.0.1 to every port of 127.0.0.1 (cookies are not
 * scoped by port, and SameSite counts other ports as the same site), so any other local server the
 * browser visits would get it and could replay it. The page keeps the token in sessionStorage,
 * which is scoped by origin (port included), and sends it itself: as a Bearer header on fetches, as
 * a websocket subprotocol `qemunet.bearer.TOKEN` on websockets (a browser cannot set their headers).
 */


export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Host headers the server answers to: the loopback names on its port, and the address it was told
 * to listen on (the URL it prints names that one: 127.0.0.2 is loopback too, but not 127.0.0.1).
 */
export function allowedHosts(port: number, listen?: string): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (listen) hosts.add(`${listen.includes(':') ? `[${listen}]` : listen}:${port}`);
  return hosts;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127(\.\d{1,3}){3}$/.test(address);
}

/** Exact match, lower-cased: `localhost.evil.com:PORT` or `127.0.0.1:OTHER` is not ours. */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/**
 * A browser's Origin must be this server exactly: http, an allowed host, the same port. A request
 * without an Origin is not from a page (browsers send it on websockets and POSTs); it passes only
 * with a bearer token, which the caller checks.
 */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): 'same' | 'absent' | 'foreign' {
  if (origin === undefined) return 'absent';
  const m = /^http:\/\/([^/]+)$/.exec(origin.toLowerCase());
  return m && allowed.has(m[1]!) ? 'same' : 'foreign';
}

/** Constant-time comparison, whatever the lengths (both sides are hashed first). */
export function secretEquals(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization ?? '');
  return m?.[1];
}

/** The token a page's websocket carries in `Sec-WebSocket-Protocol` (`qemunet, qemunet.bearer.TOKEN`). */
export function protocolBearerOf(protocols: string | undefined): string | undefined {
  for (const p of (protocols ?? '').split(',')) {
    const word = p.trim();
    if (word.startsWith(WS_BEARER_PREFIX) && /^[A-Za-z0-9_-]{1,200}$/.test(word.slice(WS_BEARER_PREFIX.length))) return word.slice(WS_BEARER_PREFIX.length);
  }
  return undefined;
}

/**
 * Scripts only, no inline script and no eval; the websockets and fetches go to this server only.
 * Inline styles are allowed: xterm.js's DOM renderer sets its colours in a <style> element.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export type Verdict = { ok: true } | { ok: false; status: number; code: ErrorCode; message: string };

const refused = (code: ErrorCode, message: string): Verdict => ({ ok: false, status: httpStatus(code), code, message });

/**
 * The whole check of a request or a websocket upgrade: this server's Host, no foreign Origin, and
 * the token, from the Authorization header or (websockets) the subprotocol. A cookie is never a
 * credential here.
 */
export function checkRequest(req: { host?: string; origin?: string; authorization?: string; wsProtocols?: string }, expected: { hosts: ReadonlySet<string>; token: string }): Verdict {
  if (!hostAllowed(req.host, expected.hosts)) return refused('BAD_HOST', `Host ${JSON.stringify(req.host ?? '')} is not this server; use ${[...expected.hosts][0]}`);
  if (originAllowed(req.origin, expected.hosts) === 'foreign') return refused('BAD_ORIGIN', `Origin ${JSON.stringify(req.origin)} is not this server`);
  const bearer = bearerOf(req.authorization) ?? protocolBearerOf(req.wsProtocols);
  if (bearer === undefined) return refused('NO_TOKEN', 'no token: send Authorization: Bearer TOKEN (the token is in the URL qemunet web printed, after #token=); in a browser, open that URL');
  return secretEquals(bearer, expected.token) ? { ok: true } : refused('BAD_TOKEN', 'wrong token: open the URL qemunet web printed (a new qemunet web has a new token)');
}
