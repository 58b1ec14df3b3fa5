import { ROUTES, type Requests, type Results, type RouteName, type RouteSpec } from '../actions-protocol.js';
import type { ApiReply } from '../protocol.js';
import { authFetch } from './auth.js';
import { withSession } from './shown-session.js';

/** Small DOM and fetch helpers of the action panels. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { id?: string; className?: string; text?: string } = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.id) e.id = props.id;
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}

export function button(label: string, onClick: () => void | Promise<void>, id?: string): HTMLButtonElement {
  const b = el('button', { text: label, ...(id ? { id } : {}) });
  b.addEventListener('click', () => void onClick());
  return b;
}

/** A route's request (actions-protocol.ts): POST with its JSON body, or GET. */
export function send<K extends RouteName>(route: K, body: Requests[K], signal?: AbortSignal): Promise<Response> {
  const spec: RouteSpec = ROUTES[route];
  const post: RequestInit = spec.method === 'POST' ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {};
  return authFetch(withSession(spec.path), { ...post, ...(signal ? { signal } : {}) });
}

/** Sends a route's request and hands back its result; throws an Error with the server's message when refused. */
export async function call<K extends RouteName>(route: K, body: Requests[K]): Promise<Results[K]> {
  const res = await send(route, body);
  const reply = (await res.json().catch(() => ({ ok: false, message: `${res.status} ${res.statusText}` }))) as ApiReply;
  if (!reply.ok) throw new Error(reply.message);
  return reply.result as Results[K];
}

/** A response that is a file: saved under `name` by the browser; throws with the server's message when refused. */
export async function download(res: Response, name: string): Promise<void> {
  if (!res.ok) throw new Error(((await res.json().catch(() => ({ message: `${res.status} ${res.statusText}` }))) as { message: string }).message);
  const url = URL.createObjectURL(await res.blob());
  const a = el('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Where the panels report: the page's status line. */
export type Say = (text: string, error?: boolean) => void;
