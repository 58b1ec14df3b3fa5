import { parseArgs } from 'node:util';
import { QEMUNET_VERSION, versions } from '../api/index.js';

/** `qemunet --version`: one line, as most tools print it. */
export function versionOption(): Promise<number> {
  process.stdout.write(`qemunet ${QEMUNET_VERSION}\n`);
  return Promise.resolve(0);
}

/** `qemunet version [--json]`: qemunet's, its session protocol's, and those of the programs it drives. */
export async function versionCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: qemunet version [--json]   qemunet, its session protocol, node, QEMU and vde_switch (qemunet --version: one line)\n');
    return 0;
  }
  const v = await versions();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    return 0;
  }
  process.stdout.write([
    `qemunet ${v.qemunet}`,
    `session protocol ${v.protocol}`,
    `node ${v.node}`,
    `QEMU ${v.qemu ?? 'not found (qemunet doctor)'}`,
    `vde_switch ${v.vde_switch ?? 'not found (qemunet doctor)'}`,
  ].join('\n') + '\n');
  return 0;
}
