import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { QemunetError } from '../errors.js';
import { pollUntil } from '../process/poll.js';
import { spawnProcess } from '../process/start.js';
import { MgmtClient } from './mgmt-client.js';
import { checkLabSwitchCommand } from './mgmt-commands.js';
import { parseCmdFile } from './mgmt-protocol.js';

/** How long a plug (trunk, tap, wire) may take to show up on its switch port: seconds on a loaded machine. */
const PLUG_WAIT = { timeoutMs: 15000, intervalMs: 50 };

/**
 * VLAN support as QemuNet does it (-v): the ports hosts and trunks will use are created first, so
 * that the switch's `.cmd` file (vde_switch management commands) can put them in VLANs before any
 * VM plugs in. A command the switch refuses stops the start, naming the line and the switch's answer.
 */
export async function configureSwitch(name: string, mgmt: string, ports: readonly number[], declared: readonly string[], cmd?: { file: string; text: string; labConsoleOnly?: boolean }): Promise<void> {
  const lines = cmd ? parseCmdFile(cmd.text) : [];
  // A lab from elsewhere (a web page's labs folder) may not reach the switch's host-side commands through its .cmd file either.
  if (cmd?.labConsoleOnly) {
    for (const { line, command } of lines) {
      try {
        checkLabSwitchCommand(command);
      } catch (e) {
        throw new QemunetError('SWITCH_COMMAND_REFUSED', `${cmd.file}:${line}: ${(e as Error).message}; a lab started from the web page runs its .cmd file so; start it from the command line to run any command`);
      }
    }
  }
  const client = await MgmtClient.connect(mgmt, name);
  try {
    await client.sendAll(ports.map((port) => `port/create ${port}`));
    for (const command of declared) await client.sendChecked(command, { note: " (from the topology's VLANs)" });
    for (const { line, command } of lines) await client.sendChecked(command, { at: `${cmd!.file}:${line}: ` });
  } finally {
    client.close();
  }
}

/** One vde_plug (a trunk between two switches, or a switch and a tap), tied to qemunet's life like the VMs. */
export async function launchPlug(argv: readonly string[], logFile: string, checks: Array<{ name: string; mgmt: string; port: number }>, program: readonly string[] = ['vde_plug']): Promise<ChildProcess> {
  const fd = openSync(logFile, 'a');
  // dpipe makes its own process group, which a session leader (detached) may not.
  // A wirefilter chain makes a ptp socket and a management socket: owner-only, like the switch's.
  const [first, ...rest] = [...program, ...argv];
  const { child, started } = spawnProcess(first!, rest, { stdio: ['ignore', fd, fd], tiedTo: 'KILL', privateSockets: true, detached: program[0] === 'vde_plug' });
  closeSync(fd);
  await started;
  // Up once both switch ports show the plug as active.
  const failed = () => {
    child.kill('SIGKILL');
    return plugFailure([...program, ...argv], logFile, child.exitCode);
  };
  for (const c of checks) {
    const client = await MgmtClient.connect(c.mgmt, c.name);
    try {
      const active = await pollUntil(async () => {
        const r = await client.send(`port/print ${c.port}`);
        if (r.data.some((l) => / ACTIVE /.test(l))) return true;
        if (child.exitCode !== null) throw failed();
        return undefined;
      }, PLUG_WAIT);
      if (!active) throw failed();
    } finally {
      client.close();
    }
  }
  return child;
}

/** Why a vde_plug did not come up, from its log; a tap without CAP_NET_ADMIN says what to run. */
export function plugFailure(command: readonly string[], logFile: string, exitCode: number | null): QemunetError {
  const log = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' ');
  if (/Operation not permitted/.test(log)) {
    return new QemunetError('NEEDS_NET_ADMIN', `${command[command.length - 1]} needs CAP_NET_ADMIN to make a tap interface: run qemunet as root, or give vde_plug the capability: sudo setcap cap_net_admin+ep $(command -v vde_plug)`);
  }
  return new QemunetError('PLUG_FAILED', `${command.join(' ')} did not come up (${exitCode !== null ? `exited with ${exitCode}` : 'not connected'})${log ? `: ${log}` : ''}`);
}

/** A tap exists once vde_plug has opened it; it may also fail to (no CAP_NET_ADMIN) after the switch side is up. */
export async function waitForTap(child: ChildProcess, name: string, argv: readonly string[], logFile: string): Promise<void> {
  const failed = () => {
    child.kill('SIGKILL');
    return plugFailure(['vde_plug', ...argv], logFile, child.exitCode);
  };
  const made = await pollUntil(() => {
    if (existsSync(`/sys/class/net/${name}`)) return true;
    if (child.exitCode !== null) throw failed();
    return undefined;
  }, PLUG_WAIT);
  if (!made) throw failed();
}
