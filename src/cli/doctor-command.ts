import { parseArgs } from 'node:util';
import { assess, probeMachine } from '../api/index.js';
import { renderDoctor } from './doctor-view.js';

/** `qemunet doctor [--json]`: exit 0 when a lab can run on this machine, 1 when not. */
export async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const report = assess(await probeMachine());
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
  return report.canRunLabs ? 0 : 1;
}
