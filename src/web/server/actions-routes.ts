import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError } from '../../errors.js';
import { FINAL_HOST_STATES, listSessions, startDetached, type SessionClient } from '../../api/index.js';
import { EXEC_OUTPUT_LIMIT, ROUTES, type PostRoute, type Requests, type Results, type RouteName } from '../actions-protocol.js';
import type { ApiReply } from '../protocol.js';
import { parseVlanPrint } from '../vlan-table.js';
import { faultSettings, parseRequest } from './action-schemas.js';
import { fileNameOf, wiresharkCommand } from './actions-requests.js';
import type { LabsFolder } from './labs.js';
import type { WebSession } from './session-source.js';

/** A live capture ends by itself after this long (a forgotten browser tab, a curl left running). */
const LIVE_CAPTURE_MAX_MS = 3600 * 1000;
const EXEC_TIMEOUT_MS = 120000;

/** What the routes use of the session API; SessionClient itself, or a fake in tests. */
export type ActionClient = Pick<SessionClient, 'dir' | 'status' | 'setLink' | 'setFaults' | 'powerOffHost' | 'powerOnHost' | 'exec' | 'captureStream' | 'labSwitchCommand' | 'switchCommand' | 'save' | 'stop' | 'check'>;

/** Everything a route is handed: the doors of http-server.ts have been passed already. */
export interface ActionContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The session the request names (`?session=DIR`), or the server's first one. */
  session: WebSession;
  /** Whether that is the server's first session (the Wireshark command then names none). */
  first: boolean;
  /** The bearer token, for the Wireshark command's here-document. */
  token: string;
  labs?: LabsFolder;
  /** The session API on the request's session; throws NO_SESSION when none is shown. */
  client(): ActionClient;
}

type Handler<K extends RouteName> = (c: ActionContext, request: Requests[K]) => Promise<Results[K]>;

/**
 * Each route of actions-protocol.ts, on the session API (src/api/) or, for what only the web server
 * has (the view, the layout), on the WebSession. A request is refused with a QemunetError (400 or
 * 409, by code, as the server maps them) before anything changed.
 */
const HANDLERS: { [K in RouteName]: Handler<K> } = {
  session: (c) => c.session.view(),
  layout: async (c) => (await c.session.layout()) ?? null,
  saveLayout: (c, layout) => c.session.saveLayout(layout),
  link: (c, r) => c.client().setLink(r.nic, r.up),
  // The session records the faults in its state and pushes it: the view follows from there.
  faults: async (c, r) => {
    await c.client().setFaults(r.nic, faultSettings(r.faults));
  },
  capture: (c, r) => captureToClient(c, r.nic, r.seconds * 1000),
  captureLive: (c, r) => captureToClient(c, r.nic, LIVE_CAPTURE_MAX_MS),
  captureCommand: (c, r) => Promise.resolve({ command: wiresharkCommand(`http://${c.req.headers.host}`, c.token, r.nic, c.first ? undefined : c.session.dir) }),
  power: async (c, { host, power }) => {
    const client = c.client();
    if (power === 'off') return client.powerOffHost(host);
    if (power === 'restart') {
      const h = (await client.status()).hosts.find((x) => x.name === host);
      if (h && !FINAL_HOST_STATES.has(h.state)) await client.powerOffHost(host);
    }
    await client.powerOnHost(host);
  },
  exec: async (c, { host, command }) => {
    const out = { stdout: new Output(), stderr: new Output() };
    const status = await c.client().exec(host, ['/bin/sh', '-c', command], { onStdout: (d) => out.stdout.add(d), onStderr: (d) => out.stderr.add(d), timeoutMs: EXEC_TIMEOUT_MS });
    return { status, stdout: out.stdout.text(), stderr: out.stderr.text(), truncated: out.stdout.cut || out.stderr.cut };
  },
  switchCommand: async (c, r) => {
    const answer = await c.client().labSwitchCommand(r.switch, r.command);
    return { code: answer.code, message: answer.message, data: answer.data };
  },
  vlans: async (c, r) => {
    const answer = await c.client().switchCommand(r.switch, 'vlan/print');
    if (answer.code !== 1000) throw new QemunetError('SWITCH_COMMAND', `${r.switch} answered vlan/print with ${answer.code} ${answer.message}`);
    return parseVlanPrint(answer.data);
  },
  save: (c) => saveToClient(c.client(), c.res),
  stop: async (c) => {
    await c.client().stop();
  },
  // The session runs the checks (its own checks file, the student's view: the page is the
  // student's) and pushes each result in its state; this answers when the run is over. Node's HTTP
  // server times out only a request still arriving (requestTimeout), not a long answer.
  checks: async (c) => {
    const { score, passed } = await c.client().check({ format: 'json', view: 'student' });
    return { score, passed };
  },
  sessions: async (c) => (await listSessions()).map((s) => ({ dir: s.dir, topology: s.topology, phase: s.phase, startedAt: s.startedAt, hosts: s.hosts.length, current: s.dir === c.session.dir })),
  labs: async (c) => ({ folder: labsOf(c).root, files: await labsOf(c).list() }),
  labStart: async (c, r) => {
    const file = await labsOf(c).resolve(r.file);
    // The page then shows it (?session=DIR); other pages keep theirs.
    return { dir: await startDetached({ ...(file.kind === 'topology' ? { topology: file.path } : { from: file.path }), wireAll: true, hostNetwork: false }) };
  },
};

/** The route of a request: its name, `method` when the path is a route's but the method is not, or undefined. */
export function routeOf(method: string | undefined, path: string): RouteName | 'method' | undefined {
  const named = Object.entries(ROUTES).filter(([, spec]) => spec.path === path);
  const match = named.find(([, spec]) => spec.method === method);
  return match ? (match[0] as RouteName) : named.length ? 'method' : undefined;
}

/** Checks the request's body against its route's schema, once, then runs the route; a json route is answered with its result. */
export async function runRoute(name: RouteName, c: ActionContext, body: () => Promise<unknown>, reply: (status: number, body: ApiReply) => void): Promise<void> {
  const spec: (typeof ROUTES)[RouteName] = ROUTES[name];
  const request = spec.method === 'POST' ? parseRequest(name as PostRoute, await body()) : undefined;
  const result: unknown = await (HANDLERS[name] as Handler<RouteName>)(c, request as never);
  if (spec.reply === 'json') reply(200, { ok: true, ...(result === undefined ? {} : { result }) });
}

function labsOf(c: ActionContext): LabsFolder {
  if (!c.labs) throw new QemunetError('NO_LABS', 'this server has no labs folder: start it with qemunet web --labs DIR');
  return c.labs;
}

/**
 * The NIC's frames as a pcap stream, from the pcap header on, until the client goes or `maxMs` is
 * up: the live list, a curl into Wireshark, and the timed download alike. The session's state
 * shows the capture while it runs (each NIC's `captures`), whoever started it.
 */
async function captureToClient(c: ActionContext, nic: string, maxMs: number): Promise<void> {
  const { req, res } = c;
  const head = () => {
    if (res.headersSent) return;
    res.writeHead(200, { 'Content-Type': 'application/vnd.tcpdump.pcap', 'Content-Disposition': `attachment; filename="${fileNameOf(nic)}.pcap"`, 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
  };
  const stream = await c.client().captureStream(nic, (chunk) => {
    head();
    res.write(chunk);
  });
  head();
  const gone = new AbortController();
  // The client may have gone while the capture was starting: 'close' came already.
  if (res.destroyed || req.socket.destroyed) gone.abort();
  res.once('close', () => gone.abort());
  void stream.ended.then(() => gone.abort());
  await sleep(maxMs, undefined, { signal: gone.signal }).catch(() => {});
  await stream.stop();
  res.end();
}

/** The session as a .tgz download: saved to a private temporary folder, streamed, then removed. */
async function saveToClient(client: ActionClient, res: ServerResponse): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'qemunet-web-save-'));
  try {
    const name = `${fileNameOf(basename(client.dir))}.tgz`;
    const { file } = await client.save(join(tmp, name));
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="${name}"` });
    await new Promise<void>((resolve) => {
      const input = createReadStream(file);
      input.once('error', () => res.destroy());
      res.once('close', resolve);
      input.pipe(res);
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A command's output kept up to the limit; `cut` says whether more came. */
class Output {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  cut = false;

  add(d: Buffer): void {
    const room = EXEC_OUTPUT_LIMIT - this.size;
    if (d.length > room) this.cut = true;
    if (room <= 0) return;
    const kept = d.subarray(0, room);
    this.chunks.push(Buffer.from(kept));
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
