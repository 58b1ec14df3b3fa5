import { isQemunetError, UsageError } from '../errors.js';
import { exitStatus, isKnownCode } from '../api/index.js';
import { imageCommand } from './image-command.js';
import { captureCommand, consoleCommand, downCommand, execCommand, exportCommand, linkCommand, lsCommand, restartCommand, saveCommand, statusCommand, switchCommandCli } from './session-commands.js';
import { upCommand } from './up-command.js';
import { USAGE } from './help.js';
import { versionCommand, versionOption } from './version-command.js';
import { checkCommand } from './check-command.js';
import { doctorCommand } from './doctor-command.js';
import { completeCommand, completionCommand } from './completion-command.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  up: upCommand,
  down: downCommand,
  ls: lsCommand,
  status: statusCommand,
  console: consoleCommand,
  exec: execCommand,
  save: saveCommand,
  restart: restartCommand,
  export: exportCommand,
  switch: switchCommandCli,
  link: linkCommand,
  capture: captureCommand,
  image: imageCommand,
  version: versionCommand,
  doctor: doctorCommand,
  check: checkCommand,
  completion: completionCommand,
  // The completion scripts' call back (hidden: not in USAGE).
  __complete: completeCommand,
};

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === 'help' || (cmd === '-h' && !rest.length)) {
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version') return await versionOption();
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
