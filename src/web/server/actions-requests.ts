import { QemunetError } from '../../errors.js';
import { ROUTES, type LabFile } from '../actions-protocol.js';

/**
 * The pure pieces of the action routes that are not a body's shape (that is action-schemas.ts): the
 * session a request names, a labs folder file's name, download names, the Wireshark command.
 */

/** A session named by a request (`?session=DIR`): an absolute directory; whether it is one of the user's is checked after. */
export function sessionDirOf(dir: string): string {
  if (!dir.startsWith('/') || dir.length > 4096) throw new QemunetError('BAD_REQUEST', 'give the session as ?session=/its/directory, as the sessions list shows it');
  return dir;
}

/**
 * What is wrong with a labs folder file's name, if anything: it is a plain name (no folder part, so
 * no "..", no absolute path) of a .topo or .tgz file. Where a name that passes leads (a symlink
 * out) is checked on the disk (labs.ts).
 */
export function labFileProblem(name: string): string | undefined {
  const shown = JSON.stringify(name.slice(0, 200));
  if (name.includes('/') || name.includes('\\') || name.includes('\0')) return `${shown} is not a file of the labs folder: give its plain name, without a folder`;
  if (name.startsWith('.')) return `${shown} is not a file of the labs folder: hidden files and ".." are not offered`;
  if (!labKind(name)) return `${shown} is neither a topology (.topo) nor a session archive (.tgz)`;
  return undefined;
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
  // Inside single quotes: a NIC reference (parseNicRef's shape, its request's schema) holds no quote.
  const body = JSON.stringify({ nic });
  // The session's directory is percent-encoded, single quotes too, so it cannot leave the URL's quotes.
  const query = session === undefined ? '' : `?session=${encodeURIComponent(session).replace(/'/g, '%27')}`;
  return `curl -sSN -X POST -H @- -H 'Content-Type: application/json' --data '${body}' '${origin}${ROUTES.captureLive.path}${query}' <<'EOF' | wireshark -k -i -\nAuthorization: Bearer ${token}\nEOF`;
}
