import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { httpStatus, isInputError, isQemunetError, QemunetError } from '../../errors.js';
import { SessionClient } from '../../api/index.js';
import { WS_PROTOCOL, type ApiReply, type Cursor, type EventMessage } from '../protocol.js';
import { routeOf, runRoute, type ActionClient } from './actions-routes.js';
import { bridgeConsole } from './console-bridge.js';
import { bridgeScreen, hostRequest, screenRequest, upgradeScreen } from './screen-bridge.js';
import { allowedHosts, checkRequest, hostAllowed, newSecret, SECURITY_HEADERS, type Verdict } from './security.js';
import type { LabsFolder } from './labs.js';
import type { WebSession } from './session-source.js';

export interface WebServerOptions<S extends WebSession = WebSession> {
  /** The session of requests that name none. */
  session: S;
  /**
   * The session a request names with `?session=DIR` (each page keeps its own in its address);
   * throws a QemunetError for one it refuses. Without it, only `session` is served.
   */
  pick?: (dir: string) => Promise<S>;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  listen?: string;
  /** Default: a new random one. */
  token?: string;
  /** Where the bundled page is (build/web). */
  pageDir?: string;
  /** `qemunet web --labs DIR`: the folder whose labs the page may start. */
  labs?: LabsFolder;
  /** The session API of a session directory (default SessionClient.at; tests give a fake). */
  clientOf?: (dir: string) => ActionClient;
}

export interface WebServer {
  /** The URL to open, with the token in its fragment (never sent to the server by a browser). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const PAGE_FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Readonly<Record<string, string>> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const MAX_BODY = 64 * 1024;

export const DEFAULT_PAGE_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Serves the page, the session's state and consoles over websockets, and the routes of actions-protocol.ts; every door checked as security.ts says. */
export async function startWebServer<S extends WebSession>(options: WebServerOptions<S>): Promise<WebServer> {
  /** The session a request names, or the first one. */
  const sessionOf = (url: URL): Promise<S> => {
    const dir = url.searchParams.get('session');
    if (!dir || dir === options.session.dir) return Promise.resolve(options.session);
    if (!options.pick) return Promise.reject(new QemunetError('BAD_SESSION', `this server shows only the session ${options.session.dir}`));
    return options.pick(dir);
  };
  const token = options.token ?? newSecret();
  const clientOf = options.clientOf ?? ((dir: string) => SessionClient.at(dir));
  const pageDir = options.pageDir ?? DEFAULT_PAGE_DIR;
  let hosts = new Set<string>();
  const check = (req: IncomingMessage, upgrade: boolean): Verdict =>
    checkRequest({ host: req.headers.host, origin: req.headers.origin, authorization: req.headers.authorization, ...(upgrade ? { wsProtocols: req.headers['sec-websocket-protocol'] } : {}) }, { hosts, token });

  // The page offers its token as a second subprotocol: the answer names only the first.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });
  const sockets = new Set<WebSocket>();
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    handle(req, res).catch((e: unknown) => {
      if (isQemunetError(e)) return reply(res, httpStatus(e.code), { ok: false, code: e.code, message: e.message });
      reply(res, httpStatus('INTERNAL'), { ok: false, code: 'INTERNAL', message: (e as Error).message });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, hosts)) return reply(res, httpStatus('BAD_HOST'), { ok: false, code: 'BAD_HOST', message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this server` });
    const url = requestUrl(req);
    const page = PAGE_FILES[url.pathname];
    if (page && req.method === 'GET') {
      const body = await readFile(`${pageDir}/${page}`).catch(() => undefined);
      if (!body) return reply(res, httpStatus('NO_PAGE'), { ok: false, code: 'NO_PAGE', message: `the page is not built (${pageDir}); run npm run build` });
      res.writeHead(200, { 'Content-Type': TYPES[page.split('.').pop()!]! });
      return void res.end(body);
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (!url.pathname.startsWith('/api/')) return reply(res, httpStatus('NOT_FOUND'), { ok: false, code: 'NOT_FOUND', message: `no ${url.pathname} here` });
    const verdict = check(req, false);
    if (!verdict.ok) return reply(res, verdict.status, { ok: false, code: verdict.code, message: verdict.message });
    const session = await sessionOf(url);
    const route = routeOf(req.method, url.pathname);
    if (!route || route === 'method') return reply(res, httpStatus('NOT_FOUND'), { ok: false, code: 'NOT_FOUND', message: `no ${req.method} ${url.pathname} here` });
    const client = () => {
      if (!session.dir) throw new QemunetError('NO_SESSION', 'no session is shown: choose one in the sessions list, or start one from the labs folder');
      return clientOf(session.dir);
    };
    const context = { req, res, session, first: session === options.session, token, ...(options.labs ? { labs: options.labs } : {}), client };
    await runRoute(route, context, () => readJson(req), (status, body) => reply(res, status, body));
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const verdict = check(req, true);
    if (!verdict.ok) return refuse(socket, verdict.status, verdict.message);
    let url: URL;
    try {
      url = requestUrl(req);
    } catch (e) {
      return refuse(socket, 400, (e as Error).message);
    }
    sessionOf(url)
      .then((session) => upgrade(req, socket, head, url, session))
      .catch((e: unknown) => refuse(socket, isQemunetError(e) && isInputError(e.code) ? 400 : 503, (e as Error).message));
  });

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, session: S): void {
    const consoleMatch = hostRequest(url.pathname, 'console');
    if (consoleMatch && !('host' in consoleMatch)) return refuse(socket, consoleMatch.status, consoleMatch.message);
    const screen = screenRequest(url.pathname);
    if (screen) {
      return void upgradeScreen(session, screen, socket, refuse, (vnc) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          sockets.add(ws);
          ws.once('close', () => sockets.delete(ws));
          bridgeScreen(ws, vnc);
        }),
      );
    }
    if (url.pathname !== '/ws/events' && !consoleMatch) return refuse(socket, 404, 'no such websocket');
    let cursor: Cursor | undefined;
    if (consoleMatch) {
      const epoch = url.searchParams.get('epoch');
      const offset = url.searchParams.get('offset');
      if (epoch !== null || offset !== null) {
        if (!epoch || !/^[0-9a-z]{1,32}$/.test(epoch) || !offset || !/^\d{1,15}$/.test(offset)) return refuse(socket, 400, 'epoch and offset: a console cursor, as the hello message gave it');
        cursor = { epoch, offset: Number(offset) };
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.once('close', () => sockets.delete(ws));
      if (consoleMatch) return bridgeConsole(ws, session, consoleMatch.host, cursor);
      const send = (m: EventMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
      const off = session.subscribe((view) => send({ t: 'state', view }));
      ws.once('close', off);
      ws.on('error', () => {});
    });
  }

  const listen = options.listen ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, listen, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(port, listen);
  const shown = listen.includes(':') ? `[${listen}]` : listen;
  return {
    url: `http://${shown}:${port}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, body: ApiReply): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

function refuse(socket: Duplex, status: number, message: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  const body = `${JSON.stringify({ ok: false, message })}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The request's target as a URL: a path, as browsers and scripts send it (origin-form). Anything
 * else, the absolute form included, is a 400: parsing `http://[/ws/events` once threw outside any
 * handler and ended the server.
 */
export function requestUrl(req: { url?: string | undefined }): URL {
  const target = req.url ?? '';
  const bad = () => new QemunetError('BAD_REQUEST', `the request target must be a path like /api/session, not ${JSON.stringify(target.slice(0, 100))}`);
  if (!target.startsWith('/') || target.startsWith('//')) throw bad();
  try {
    return new URL(target, 'http://qemunet.invalid');
  } catch {
    throw bad();
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new QemunetError('BAD_REQUEST', `the request body is over ${MAX_BODY} bytes (64 KiB), the most this server reads`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new QemunetError('BAD_REQUEST', 'the request body is not JSON');
  }
}
