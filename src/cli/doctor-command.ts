import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { assess, labEnvironment, probeMachine } from '../api/index.js';
import { accelFromEnvironment } from './lab-settings.js';
import { renderDoctor } from './doctor-view.js';

/** `qemunet doctor [--json]`: exit 0 when a lab can run on this machine, 1 when not. */
export async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: qemunet doctor [--json]   each part qemunet uses: ok, missing or degraded, and the command that fixes it; exit 1 when no lab can run\n');
    return 0;
  }
  const accel = (() => {
    try {
      return accelFromEnvironment(process.env.QEMUNET_ACCEL);
    } catch (e) {
      return { invalid: (e as Error).message };
    }
  })();
  const report = assess(await probeMachine({ env: process.env, accel, environment: labEnvironment(process.env, homedir()) }));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
  return report.canRunLabs ? 0 : 1;
}
