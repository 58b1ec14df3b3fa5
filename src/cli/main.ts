import { InterruptedError, isQemunetError, UsageError } from '../errors.js';
import { imageCommand } from './image-command.js';

const USAGE = `usage: qemunet COMMAND ...
  image build [tiny] [--force]   build the built-in guest image
  image list [--json] [-c FILE]  list known systems and the state of their files
  image rm NAME                  remove a built image`;

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === 'image') return await imageCommand(rest);
    if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  } catch (e) {
    if (isQemunetError(e)) {
      process.stderr.write(`qemunet: ${e.message}\n`);
      return e instanceof UsageError ? 2 : e instanceof InterruptedError ? 130 : 1;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`qemunet: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}
