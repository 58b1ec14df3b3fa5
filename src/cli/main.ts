import { isQemunetError, UsageError } from '../errors.js';
import { exitStatus, isKnownCode } from '../api/index.js';
import { imageCommand } from './image-command.js';
import { captureCommand, consoleCommand, downCommand, execCommand, linkCommand, lsCommand, restartCommand, saveCommand, statusCommand, switchCommandCli } from './session-commands.js';
import { upCommand } from './up-command.js';

const USAGE = `usage: qemunet COMMAND ...
  up TOPOLOGY [options]          start a session (qemunet up --help lists the options)
  -t TOPOLOGY [options]          the same, in QemuNet's form (-s ARCHIVE, -S DIR, -l/-L SYS, -D SYS too)
  down [--session DIR]           stop a session
  ls [--all] [--json]            list sessions
  status [--session DIR] [--json]  hosts, states, switch ports, consoles
  console HOST [--session DIR]   attach to a host's serial console (Ctrl-] detaches)
  exec HOST [--session DIR] -- COMMAND [ARGS...]  run a command in a guest
  save [--session DIR] OUT.tgz   save a session (running or stopped); restore with up --from / -s
  restart HOST [--session DIR]   start a crashed or powered-off host again, on the same switch ports
  switch SW [--session DIR] [-- COMMAND]  a switch's management console, or one command (port/allprint...)
  link HOST:ethN [up|down] [--delay 40ms --loss 10% ...]  show or set a NIC's link and faults
  capture HOST:ethN -w FILE|-    pcap of a NIC's frames until Ctrl-C or --duration SECONDS
  web [--session DIR] [--port N] [--open]  the session in a browser: live graph, consoles, link actions
  image build [tiny|debian] [--force]   build a built-in guest image
  image list [--json] [-c FILE]  list known systems and the state of their files
  image pull NAME [-c FILE]      download a system's image from its URL[..] (QemuNet's -D)
  image rm NAME                  remove a built image
Commands that act on a session use the only running one when --session is not given.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  up: upCommand,
  down: downCommand,
  ls: lsCommand,
  status: statusCommand,
  console: consoleCommand,
  exec: execCommand,
  save: saveCommand,
  restart: restartCommand,
  switch: switchCommandCli,
  link: linkCommand,
  capture: captureCommand,
  image: imageCommand,
};

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === 'help' || (cmd === '-h' && !rest.length)) {
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    }
    const command = COMMANDS[cmd];
    if (command) return await command(rest);
    // QemuNet's own command lines: `qemunet -t lan.topo -x ...`.
    if (cmd.startsWith('-')) return await upCommand(argv);
    throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  } catch (e) {
    const code = (e as { code?: unknown } | undefined)?.code;
    if (isQemunetError(e) || isKnownCode(code)) {
      process.stderr.write(`qemunet: ${(e as Error).message}\n`);
      return exitStatus(code as string);
    }
    throw e;
  }
}
