import { isQemunetError } from '../errors.js';
import { imageCommand } from './image-command.js';

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === 'image') return await imageCommand(rest);
    process.stderr.write(`qemunet: unknown command ${cmd ?? ''}\n`);
    return 2;
  } catch (e) {
    if (isQemunetError(e)) {
      process.stderr.write(`qemunet: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
