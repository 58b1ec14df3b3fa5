import { parseArgs } from 'node:util';
import { attachConsole } from '../console/attach.js';
import { QemunetError, UsageError } from '../errors.js';
import { saveSession } from '../lab/save.js';
import { down, execInHost, findSession, isLive, listSessions, restartHost, sessionStatus, switchCommand } from '../lab/sessions.js';
import { sessionPaths } from '../session/paths.js';
import { renderStatus } from './status-view.js';

const sessionOption = { session: { type: 'string' } } as const;

export async function downCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError('usage: qemunet down [SESSION_DIR | --session DIR]');
  const dir = await findSession(values.session ?? positionals[0]);
  const state = await down(dir);
  process.stdout.write(`session ${dir}: ${state.phase}\n`);
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
  const dir = await findSession(values.session ?? positionals[0]);
  const state = await sessionStatus(dir);
  process.stdout.write(values.json ? `${JSON.stringify(state, null, 2)}\n` : `${renderStatus(state)}\n`);
  return 0;
}

export async function consoleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [host] = positionals;
  if (!host || positionals.length > 1) throw new UsageError('usage: qemunet console HOST [--session DIR]');
  const dir = await findSession(values.session);
  const state = await sessionStatus(dir);
  if (!state.hosts.some((h) => h.name === host)) throw new QemunetError('UNKNOWN_HOST', `session ${dir} has no host ${host}; hosts: ${state.hosts.map((h) => h.name).join(', ')}`);
  if (process.stdin.isTTY) process.stderr.write(`[console of ${host}: Ctrl-] detaches]\r\n`);
  const how = await attachConsole(sessionPaths(dir).host(host).console, { input: process.stdin, output: process.stdout });
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
  const dir = await findSession(values.session);
  const timeoutMs = values.timeout ? Number(values.timeout) * 1000 : undefined;
  return execInHost(dir, host, command, {
    onStdout: (d) => process.stdout.write(d),
    onStderr: (d) => process.stderr.write(d),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

export async function saveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [out] = positionals;
  if (!out || positionals.length > 1) throw new UsageError('usage: qemunet save [--session DIR] OUT.tgz');
  const dir = await findSession(values.session, { allowStopped: true });
  const { file, live } = await saveSession(dir, out);
  process.stdout.write(`saved ${dir} to ${file}${live ? ' (running; each VM frozen for a moment)' : ''}\n`);
  return 0;
}

export async function restartCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: sessionOption, allowPositionals: true });
  const [host] = positionals;
  if (!host || positionals.length > 1) throw new UsageError('usage: qemunet restart HOST [--session DIR]');
  const dir = await findSession(values.session);
  await restartHost(dir, host);
  process.stdout.write(`${host} is starting again (qemunet status shows when it is ready)\n`);
  return 0;
}

/** `qemunet switch SW -- COMMAND`: one vde_switch management command; its output, and its status as exit code. */
export async function switchCommandCli(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const { values, positionals } = parseArgs({ args: dash < 0 ? args : args.slice(0, dash), options: sessionOption, allowPositionals: true });
  const [sw] = positionals;
  const command = dash < 0 ? [] : args.slice(dash + 1);
  if (!sw || positionals.length > 1 || !command.length) throw new UsageError('usage: qemunet switch SWITCH [--session DIR] -- COMMAND [ARGS...]   (e.g. port/allprint, vlan/print)');
  const dir = await findSession(values.session);
  const reply = await switchCommand(dir, sw, command.join(' '));
  for (const line of reply.data) process.stdout.write(`${line}\n`);
  if (reply.code === 1000) return 0;
  process.stderr.write(`qemunet: switch ${sw} refused "${command.join(' ')}": ${reply.code} ${reply.message}\n`);
  return 1;
}
