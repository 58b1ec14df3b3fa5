import type { DoctorReport } from '../api/index.js';

/** `qemunet doctor`'s text: a line per part, its fix under it, then the verdict. Pure. */
export function renderDoctor(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.title.length));
  const lines = [`qemunet ${r.qemunet}: what this machine has for it`];
  for (const c of r.checks) {
    lines.push(`${c.status.padEnd(8)}  ${c.title.padEnd(width)}  ${c.detail}${c.required && c.status !== 'ok' ? '  (a lab needs it)' : ''}`);
    if (c.fix && c.status !== 'ok') lines.push(`${' '.repeat(10 + width)}fix: ${c.fix}`);
  }
  lines.push(r.canRunLabs
    ? 'A lab can run here.'
    : `A lab cannot run here: fix the parts marked "a lab needs it" (bash ${r.installScript} installs every package qemunet uses).`);
  return `${lines.join('\n')}\n`;
}
