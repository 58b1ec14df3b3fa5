import { QemunetError } from '../../errors.js';
import { nicRefOf } from '../../protocol/names.js';
import type { ExecRequest, LabFile, PowerRequest, SwitchCommandRequest } from '../actions-protocol.js';

/**
 * The checks of the action endpoints' request bodies (pure): a wrong shape is a BAD_REQUEST that
 * says what to send. Names (hosts, NICs, switches) are checked by the session itself.
 */

const bad = (why: string) => new QemunetError('BAD_REQUEST', why);
const fields = (body: unknown): Record<string, unknown> => (body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {});
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function powerRequestOf(body: unknown): PowerRequest {
  const b = fields(body);
  if (typeof b.host !== 'string' || !NAME.test(b.host)) throw bad('power: give {"host":"NAME","power":"off"|"on"|"restart"}');
  if (b.power !== 'off' && b.power !== 'on' && b.power !== 'restart') throw bad(`power: ${JSON.stringify(b.power ?? null)} is not one of off, on, restart`);
  return { host: b.host, power: b.power };
}

export function execRequestOf(body: unknown): ExecRequest {
  const b = fields(body);
  if (typeof b.host !== 'string' || !NAME.test(b.host) || typeof b.command !== 'string') throw bad('exec: give {"host":"NAME","command":"a shell command line"}');
  if (!b.command.trim()) throw bad('exec: the command is empty');
  if (b.command.length > 4096) throw bad('exec: the command is over 4096 characters');
  if (b.command.includes('\0')) throw bad('exec: the command holds a NUL byte');
  return { host: b.host, command: b.command };
}

/** A NIC reference's shape (`host:ethN`); whether the session has it is the session's check. */
export function nicRequestOf(body: unknown): string {
  const nic = fields(body).nic;
  if (typeof nic !== 'string' || !nicRefOf(nic)) throw bad(`give the NIC as {"nic":"host:eth0"}${typeof nic === 'string' ? `; "${nic.slice(0, 80)}" is not one` : ''}`);
  return nic;
}

export function switchNameOf(body: unknown): string {
  const name = fields(body).switch;
  if (typeof name !== 'string' || !NAME.test(name)) throw bad('give the switch as {"switch":"NAME"}');
  return name;
}

/** The request's shape; what the command may do is the session API's check (SessionClient.labSwitchCommand). */
export function switchCommandOf(body: unknown): SwitchCommandRequest {
  const name = switchNameOf(body);
  const command = fields(body).command;
  if (typeof command !== 'string') throw bad('give the management command as a string, like {"switch":"s1","command":"vlan/print"}');
  return { switch: name, command };
}

/** A session named by a request (`?session=DIR`): an absolute directory; whether it is one of the user's is checked after. */
export function sessionDirOf(dir: string): string {
  if (!dir.startsWith('/') || dir.length > 4096) throw bad('give the session as ?session=/its/directory, as the sessions list shows it');
  return dir;
}

/**
 * A file of the --labs folder, by its plain name: no folder part (so no "..", no absolute path),
 * a .topo or .tgz name. Where a name that passes leads (a symlink out) is checked on the disk.
 */
export function labNameOf(body: unknown): { name: string; kind: LabFile['kind'] } {
  const name = fields(body).file;
  if (typeof name !== 'string' || !name) throw bad('give the file to start as {"file":"NAME.topo"} (or NAME.tgz), as the labs list shows it');
  if (name.includes('/') || name.includes('\\') || name.includes('\0')) throw bad(`"${name.slice(0, 200)}" is not a file of the labs folder: give its plain name, without a folder`);
  if (name.startsWith('.')) throw bad(`"${name.slice(0, 200)}" is not a file of the labs folder: hidden files and ".." are not offered`);
  const kind = labKind(name);
  if (!kind) throw bad(`"${name.slice(0, 200)}" is neither a topology (.topo) nor a session archive (.tgz)`);
  return { name, kind };
}

export function labKind(name: string): LabFile['kind'] | undefined {
  return name.endsWith('.topo') ? 'topology' : name.endsWith('.tgz') ? 'archive' : undefined;
}

/** "a.pcap"-safe names for downloads: what is not a letter, digit, dot, dash or underscore becomes "_". */
export function fileNameOf(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'qemunet';
}

/**
 * The shell lines that stream a NIC's capture into Wireshark, to paste into a terminal (on this
 * machine or, with --allow-remote, another). curl reads the Authorization header from a here-document
 * (`-H @-`): a token on curl's command line would be readable by every user of the machine, in `ps`.
 * The request that asks for it carried the token already.
 */
export function wiresharkCommand(origin: string, token: string, nic: string, session?: string): string {
  const body = JSON.stringify({ nic });
  // The session's directory is percent-encoded, single quotes too, so it cannot leave the URL's quotes.
  const query = session === undefined ? '' : `?session=${encodeURIComponent(session).replace(/'/g, '%27')}`;
  return `curl -sSN -X POST -H @- -H 'Content-Type: application/json' --data '${body}' '${origin}/api/capture/live${query}' <<'EOF' | wireshark -k -i -\nAuthorization: Bearer ${token}\nEOF`;
}

