import { connect, type Socket } from 'node:net';
import { QemunetError } from '../../errors.js';
import { isLive, sessionStatus } from './sessions.js';
import { UP_HOST_STATES } from '../../protocol/session-state.js';
import type { SessionState } from '../state.js';


/**
 * The unix socket of a host's VNC server, for a client that bridges it (the web server). Only a
 * `vnc` host on the session's private socket qualifies: a TCP server (--display-tcp) wants its
 * password, a window or SPICE is no VNC. Pure: it reads the state it is given. Throws
 * UNKNOWN_HOST, NO_VNC_SCREEN (saying what the host has instead) or HOST_NOT_RUNNING.
 */
export function vncSocketOf(state: SessionState, host: string): string {
  const h = state.hosts.find((x) => x.name === host);
  if (!h) throw new QemunetError('UNKNOWN_HOST', `session ${state.dir} has no host ${host}; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
  const hint = `display vnc (HOST ${h.system}/vnc ${h.name} ...) serves it to VNC clients and the browser`;
  if (h.display !== 'vnc') {
    const has = h.display === 'spice' ? 'a SPICE server (remote-viewer opens it; qemunet status says how)' : ['graphic', 'gtk', 'sdl'].includes(h.display) ? `QEMU's own window (display ${h.display})` : `no screen, only its serial console (display ${h.display})`;
    throw new QemunetError('NO_VNC_SCREEN', `host ${host} has ${has}, not a VNC server; ${hint}`);
  }
  if (!isLive(state) || !UP_HOST_STATES.has(h.state) || !h.screen) throw new QemunetError('HOST_NOT_RUNNING', `host ${host} is not running (${isLive(state) ? h.state : `session ${state.phase}`}); its screen comes back when it runs`);
  if (!h.screen.socket) {
    throw new QemunetError('NO_VNC_SCREEN', `host ${host} serves VNC on 127.0.0.1:${h.screen.port} with a password (--display-tcp), which is not bridged; connect a VNC client there (qemunet status), or start without --display-tcp`);
  }
  return h.screen.socket;
}

/**
 * A connection to a host's VNC server (raw RFB bytes both ways). Throws as vncSocketOf, or
 * SCREEN_UNAVAILABLE when nothing answers on the socket (QEMU stopped meanwhile).
 */
export async function openHostScreen(dir: string, host: string, timeoutMs = 5000): Promise<Socket> {
  const path = vncSocketOf(await sessionStatus(dir), host);
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => fail(new QemunetError('SCREEN_UNAVAILABLE', `the VNC server of ${host} did not accept a connection within ${timeoutMs / 1000} s`)), timeoutMs);
    function fail(e: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    }
    socket.once('error', (e: NodeJS.ErrnoException) => fail(new QemunetError('SCREEN_UNAVAILABLE', `the VNC server of ${host} is not there (${e.code ?? e.message}): the host is not running`, { cause: e })));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // a reset before the owner listens must not throw; the owner watches 'close'
      resolve(socket);
    });
  });
}
