import { connect } from 'node:net';
import { attachConsole, type AttachIo } from '../../console/attach.js';
import { QemunetError } from '../../errors.js';
import { sessionPaths } from '../../session/paths.js';
import { sessionStatus } from './sessions.js';

/** Attaches a terminal to a host's serial console (raw; Ctrl-] detaches). */
export async function attachHostConsole(dir: string, host: string, io: AttachIo): Promise<'detached' | 'closed'> {
  const state = await sessionStatus(dir);
  if (!state.hosts.some((h) => h.name === host)) throw new QemunetError('UNKNOWN_HOST', `session ${dir} has no host ${host}; hosts: ${state.hosts.map((h) => h.name).join(', ')}`);
  return attachConsole(sessionPaths(dir).host(host).console, io);
}

/** The switch's management console, line by line, until end of input (Ctrl-D) or `logout`. */
export async function attachSwitchConsole(dir: string, name: string, io: AttachIo): Promise<void> {
  const state = await sessionStatus(dir);
  if (!state.switches.some((s) => s.name === name)) throw new QemunetError('UNKNOWN_SWITCH', `session ${dir} has no switch ${name}; switches: ${state.switches.map((s) => s.name).join(', ') || 'none'}`);
  const socket = connect(sessionPaths(dir).switch(name).mgmt);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new QemunetError('SWITCH_UNREACHABLE', `cannot reach the management console of switch ${name}: ${e.code}; is the session running?`)));
  });
  socket.pipe(io.output as NodeJS.WritableStream, { end: false });
  const onData = (d: Buffer) => socket.write(d);
  io.input.on('data', onData);
  io.input.once('end', () => socket.end());
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  io.input.off('data', onData);
  io.input.pause();
}
