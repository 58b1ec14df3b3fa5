import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { QemunetError } from '../../errors.js';
import { FINAL_HOST_STATES, listSessions, SessionClient, startDetached } from '../../api/index.js';
import { EXEC_OUTPUT_LIMIT, PATHS, type ExecResult, type SessionRow, type SwitchCommandResult } from '../actions-protocol.js';
import type { ApiReply } from '../protocol.js';
import { parseVlanPrint } from '../vlan-table.js';
import { execRequestOf, fileNameOf, nicRequestOf, powerRequestOf, switchCommandOf, switchNameOf, wiresharkCommand } from './actions-requests.js';
import type { LabsFolder } from './labs.js';
import type { MarkedSession, SessionPool } from './session-pool.js';

/** A live capture ends by itself after this long (a forgotten browser tab, a curl left running). */
const LIVE_CAPTURE_MAX_MS = 3600 * 1000;
const EXEC_TIMEOUT_MS = 120000;

export interface ActionContext {
  sessions: SessionPool;
  labs?: LabsFolder;
  /** The bearer token, for the Wireshark command's here-document. */
  token: string;
}

/** Everything a route is handed: the checks of http-server.ts have passed already. */
export interface RouteRequest<S = MarkedSession> {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  method: string;
  body: () => Promise<unknown>;
  /** The session the request names (`?session=DIR`), or the server's first one. */
  session: S;
}

type Reply = (status: number, body: ApiReply) => void;

/**
 * The panels' endpoints (actions-protocol.ts), all on the session API (src/api/). Returns false for
 * a path that is not one of them. Throws a QemunetError for a request it refuses (400 or 409, by
 * code, as the server maps them), having changed nothing.
 */
export async function handleAction(ctx: ActionContext, r: RouteRequest, reply: Reply): Promise<boolean> {
  const client = () => {
    if (!r.session.dir) throw new QemunetError('NO_SESSION', 'no session is shown: choose one in the sessions list, or start one from the labs folder');
    return SessionClient.at(r.session.dir);
  };
  const ok = (result?: unknown) => reply(200, { ok: true, ...(result === undefined ? {} : { result }) });
  const route = `${r.method} ${r.path}`;
  switch (route) {
    case `POST ${PATHS.power}`: {
      const { host, power } = powerRequestOf(await r.body());
      const c = client();
      if (power === 'off') await c.powerOffHost(host);
      else if (power === 'on') await c.powerOnHost(host);
      else {
        const h = (await c.status()).hosts.find((x) => x.name === host);
        if (h && !FINAL_HOST_STATES.has(h.state)) await c.powerOffHost(host);
        await c.powerOnHost(host);
      }
      ok();
      return true;
    }
    case `POST ${PATHS.exec}`: {
      const { host, command } = execRequestOf(await r.body());
      const out = { stdout: new Output(), stderr: new Output() };
      const status = await client().exec(host, ['/bin/sh', '-c', command], { onStdout: (d) => out.stdout.add(d), onStderr: (d) => out.stderr.add(d), timeoutMs: EXEC_TIMEOUT_MS });
      ok({ status, stdout: out.stdout.text(), stderr: out.stderr.text(), truncated: out.stdout.cut || out.stderr.cut } satisfies ExecResult);
      return true;
    }
    case `POST ${PATHS.captureLive}`:
      await liveCapture(client(), nicRequestOf(await r.body()), r);
      return true;
    case `POST ${PATHS.captureCommand}`: {
      const nic = nicRequestOf(await r.body());
      ok({ command: wiresharkCommand(`http://${r.req.headers.host}`, ctx.token, nic, r.session === ctx.sessions.first ? undefined : r.session.dir) });
      return true;
    }
    case `POST ${PATHS.switchCommand}`: {
      const request = switchCommandOf(await r.body());
      const answer = await client().labSwitchCommand(request.switch, request.command);
      ok({ code: answer.code, message: answer.message, data: answer.data } satisfies SwitchCommandResult);
      return true;
    }
    case `POST ${PATHS.vlans}`: {
      const name = switchNameOf(await r.body());
      const answer = await client().switchCommand(name, 'vlan/print');
      if (answer.code !== 1000) throw new QemunetError('SWITCH_COMMAND', `${name} answered vlan/print with ${answer.code} ${answer.message}`);
      ok(parseVlanPrint(answer.data));
      return true;
    }
    case `POST ${PATHS.save}`:
      await save(client(), r);
      return true;
    case `GET ${PATHS.sessions}`: {
      const rows: SessionRow[] = (await listSessions()).map((s) => ({ dir: s.dir, topology: s.topology, phase: s.phase, startedAt: s.startedAt, hosts: s.hosts.length, current: s.dir === r.session.dir }));
      ok(rows);
      return true;
    }
    case `GET ${PATHS.labs}`:
      ok({ folder: labsOf(ctx).root, files: await labsOf(ctx).list() });
      return true;
    case `POST ${PATHS.labStart}`: {
      const file = await labsOf(ctx).resolve(await r.body());
      const dir = await startDetached({ ...(file.kind === 'topology' ? { topology: file.path } : { from: file.path }), wireAll: true, hostNetwork: false });
      // The page then shows it (?session=DIR); other pages keep theirs.
      ok({ dir });
      return true;
    }
    default:
      return false;
  }
}

function labsOf(ctx: ActionContext): LabsFolder {
  if (!ctx.labs) throw new QemunetError('NO_LABS', 'this server has no labs folder: start it with qemunet web --labs DIR');
  return ctx.labs;
}

/** The NIC's frames as a pcap stream, from the pcap header on, until the client goes (or an hour). */
async function liveCapture(client: SessionClient, nic: string, r: RouteRequest): Promise<void> {
  const { res } = r;
  const head = () => {
    if (res.headersSent) return;
    res.writeHead(200, { 'Content-Type': 'application/vnd.tcpdump.pcap', 'Content-Disposition': `attachment; filename="${fileNameOf(nic)}.pcap"`, 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
  };
  const stream = await client.captureStream(nic, (chunk) => {
    head();
    res.write(chunk);
  });
  head();
  const unmark = r.session.capturing(nic);
  await new Promise<void>((resolve) => {
    // The client may have gone while the capture was starting: 'close' came already.
    if (res.destroyed || r.req.socket.destroyed) return resolve();
    const timer = setTimeout(resolve, LIVE_CAPTURE_MAX_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    res.once('close', done);
    void stream.ended.then(done);
  });
  unmark();
  await stream.stop();
  res.end();
}

/** The session as a .tgz download: saved to a private temporary folder, streamed, then removed. */
async function save(client: SessionClient, r: RouteRequest): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'qemunet-web-save-'));
  try {
    const name = `${fileNameOf(basename(client.dir))}.tgz`;
    const { file } = await client.save(join(tmp, name));
    r.res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="${name}"` });
    await new Promise<void>((resolve) => {
      const input = createReadStream(file);
      input.once('error', () => r.res.destroy());
      r.res.once('close', resolve);
      input.pipe(r.res);
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
