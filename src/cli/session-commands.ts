import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { QemunetError, UsageError } from '../errors.js';
import { FAULT_NAMES, isLive, listSessions, parseNicRef, SessionClient } from '../api/index.js';
import { renderStatus } from './status-view.js';

const sessionOption = { session: { type: 'string' } } as const;

export async function downCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError('usage: qemunet down [SESSION_DIR | --session DIR]');
  const session = await SessionClient.find(values.session ?? positionals[0]);
  const state = await session.stop();
  process.stdout.write(`session ${session.dir}: ${state.phase}\n`);
  return 0;
}

export async function lsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, all: { type: 'boolean', short: 'a' } } });
  const sessions = (await listSessions()).filter((s) => values.all || isLive(s));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    return 0;
  }
  if (!sessions.length) {
    process.stdout.write(values.all ? 'no sessions\n' : 'no running sessions (qemunet ls --all shows stopped ones)\n');
    return 0;
  }
  for (const s of sessions) {
    const ready = s.hosts.filter((h) => h.state === 'ready' || (!h.agent && h.state === 'running')).length;
    process.stdout.write(`${s.dir}  ${s.phase}  ${ready}/${s.hosts.length} hosts ready  ${s.topology}\n`);
  }
  return 0;
}

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...sessionOption, json: { type: 'boolean' } }, allowPositionals: true });
  const state = await (await SessionClient.find(values.session ?? positionals[0])).status();
  process.stdout.write(values.json ? `${JSON.stringify(state, null, 2)}\n` : `${renderStatus(state)}\n`);
  return 0;
}

export async function consoleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [host] = positionals;
  if (!host || positionals.length > 1) throw new UsageError('usage: qemunet console HOST [--session DIR]');
  const session = await SessionClient.find(values.session);
  if (process.stdin.isTTY) process.stderr.write(`[console of ${host}: Ctrl-] detaches]\r\n`);
  const how = await session.attachConsole(host, { input: process.stdin, output: process.stdout });
  if (process.stdin.isTTY) process.stderr.write(how === 'closed' ? `\r\n[${host} stopped]\r\n` : '\r\n');
  return 0;
}

export async function execCommand(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const { values, positionals } = parseArgs({ args: own, options: { ...sessionOption, timeout: { type: 'string' } }, allowPositionals: true });
  const [host] = positionals;
  if (!host || positionals.length > 1 || !command.length) throw new UsageError('usage: qemunet exec HOST [--session DIR] [--timeout SECONDS] -- COMMAND [ARGS...]');
  const session = await SessionClient.find(values.session);
  const timeoutMs = values.timeout ? Number(values.timeout) * 1000 : undefined;
  return session.exec(host, command, {
    onStdout: (d) => process.stdout.write(d),
    onStderr: (d) => process.stderr.write(d),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

export async function saveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [out] = positionals;
  if (!out || positionals.length > 1) throw new UsageError('usage: qemunet save [--session DIR] OUT.tgz');
  const session = await SessionClient.find(values.session, { allowStopped: true });
  const { file, live } = await session.save(out);
  process.stdout.write(`saved ${session.dir} to ${file}${live ? ' (running; each VM frozen for a moment)' : ''}\n`);
  return 0;
}

/** `qemunet export virtualbox HOST`: prints VBoxManage commands (untested: VirtualBox is not installable here). */
export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [target, host] = positionals;
  if (target !== 'virtualbox' || !host || positionals.length > 2) throw new UsageError('usage: qemunet export virtualbox HOST [--session DIR]');
  process.stdout.write(await (await SessionClient.find(values.session, { allowStopped: true })).exportVirtualBox(host));
  return 0;
}

export async function restartCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [host] = positionals;
  if (!host || positionals.length > 1) throw new UsageError('usage: qemunet restart HOST [--session DIR]');
  await (await SessionClient.find(values.session)).restartHost(host);
  process.stdout.write(`${host} is starting again (qemunet status shows when it is ready)\n`);
  return 0;
}

/** `qemunet switch SW -- COMMAND`: one vde_switch management command; its output, and its status as exit code. */
export async function switchCommandCli(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const { values, positionals } = parseArgs({ args: dash < 0 ? args : args.slice(0, dash), options: sessionOption, allowPositionals: true });
  const [sw] = positionals;
  const command = dash < 0 ? [] : args.slice(dash + 1);
  if (!sw || positionals.length > 1) throw new UsageError('usage: qemunet switch SWITCH [--session DIR] [-- COMMAND [ARGS...]]   (e.g. port/allprint, vlan/print)');
  const session = await SessionClient.find(values.session);
  if (!command.length) {
    // Interactive: the switch's own prompt; Ctrl-D or "logout" ends it.
    if (process.stdin.isTTY) process.stderr.write(`[management console of switch ${sw}: "help" lists commands, Ctrl-D leaves]\n`);
    await session.attachSwitchConsole(sw, { input: process.stdin, output: process.stdout });
    return 0;
  }
  const reply = await session.switchCommand(sw, command.join(' '));
  for (const line of reply.data) process.stdout.write(`${line}\n`);
  if (reply.code === 1000) return 0;
  process.stderr.write(`qemunet: switch ${sw} refused "${command.join(' ')}": ${reply.code} ${reply.message}\n`);
  return 1;
}

/** `qemunet link HOST:ethN [up|down] [--delay 40ms --loss 10% ...]`: sets or shows a NIC's link and faults. */
export async function linkCommand(args: string[]): Promise<number> {
  // One option per fault, from the one list of their names.
  const faultOptions = Object.fromEntries(FAULT_NAMES.map((name) => [name, { type: 'string' as const }]));
  const { values, positionals } = parseArgs({ args, options: { ...faultOptions, ...sessionOption }, allowPositionals: true });
  const [ref, state] = positionals;
  if (!ref || positionals.length > 2 || (state !== undefined && state !== 'up' && state !== 'down')) {
    throw new UsageError('usage: qemunet link HOST:ethN [up|down] [--delay 40ms[+10ms]] [--loss 10%] [--dup 1%] [--bandwidth 10mbit] [--mtu 1400] [--session DIR]');
  }
  const session = await SessionClient.find(values.session);
  const given = values as Record<string, string | undefined>;
  const settings = FAULT_NAMES.flatMap((name): Array<[string, string]> => (given[name] !== undefined ? [[name, given[name]]] : []));
  if (settings.length) await session.setFaults(ref, settings);
  if (state) await session.setLink(ref, state === 'up');
  const { host, nic } = parseNicRef(ref);
  const h = (await session.status()).hosts.find((x) => x.name === host);
  const n = h?.nics[nic];
  if (!h || !n) throw new QemunetError('UNKNOWN_NIC', `session ${session.dir} has no NIC ${ref}`);
  process.stdout.write(`${ref} on ${n.switch}:${n.port} (${n.mac}): link ${n.up === false ? 'down' : 'up'}\n`);
  const faults = await session.faults(ref);
  if (faults) process.stdout.write(`${faults.join('\n')}\n`);
  return 0;
}

/** `qemunet capture HOST:ethN -w FILE|-`: a pcap of the NIC's frames until Ctrl-C, SIGTERM or --duration. */
export async function captureCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...sessionOption, write: { type: 'string', short: 'w' }, duration: { type: 'string' } }, allowPositionals: true });
  const [ref] = positionals;
  if (!ref || positionals.length > 1 || !values.write) throw new UsageError('usage: qemunet capture HOST:ethN -w FILE.pcap|- [--duration SECONDS] [--session DIR]');
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration needs a number of seconds, got "${values.duration}"`);
  const session = await SessionClient.find(values.session);
  const toStdout = values.write === '-';
  const file = resolve(values.write);
  // QEMU writes the file; a path it cannot write is reported here, in the user's terms.
  if (!toStdout) {
    await writeFile(file, '').catch((e: NodeJS.ErrnoException) => {
      throw new QemunetError('CAPTURE_PATH', `cannot write the capture to ${file}: ${e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.code}`);
    });
  }
  const capture = toStdout ? await session.captureStream(ref, (chunk) => process.stdout.write(chunk)) : await session.capture(ref, file);
  const done = new AbortController();
  const stopOn = () => done.abort();
  process.once('SIGINT', stopOn);
  process.once('SIGTERM', stopOn);
  const timer = duration ? setTimeout(stopOn, duration * 1000) : undefined;
  try {
    if (!toStdout) process.stderr.write(`capturing ${ref} to ${file}; Ctrl-C stops\n`);
    await new Promise((r) => done.signal.addEventListener('abort', r, { once: true }));
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stopOn);
    process.off('SIGTERM', stopOn);
    await capture.stop();
  }
  return 0;
}
