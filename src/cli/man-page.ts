import { synopses } from './help.js';

/**
 * qemunet(1), made from the help the CLI prints (USAGE and `up --help`), so the two cannot drift
 * apart: scripts/build-man.mjs writes it at build time, the package ships it. Pure.
 */
export function manPage(usage: string, upUsage: string, version: string): string {
  const lines = [
    `.TH QEMUNET 1 "" "qemunet ${esc(version)}" "User Commands"`,
    '.SH NAME',
    'qemunet \\- virtual networks of QEMU VMs wired by VDE switches, from QemuNet topology files',
    '.SH SYNOPSIS',
    '.B qemunet',
    '.I COMMAND',
    '[\\fIARGS\\fR...]',
    '.SH COMMANDS',
  ];
  for (const s of synopses(usage)) lines.push('.TP', `.B ${esc(`${s.name} ${s.args}`.trim())}`, esc(s.summary));
  const trailer = usage.split('\n').filter((l) => !l.startsWith('  ') && !l.startsWith('usage:'));
  if (trailer.length) lines.push('.PP', ...trailer.map(esc));
  lines.push('.SH OPTIONS OF UP');
  const [first, ...options] = upUsage.split('\n');
  lines.push(esc(first!.replace(/^usage: /, '')), '.PP', '.nf', ...options.map((l) => esc(l.replace(/^ {2}/, ''))), '.fi');
  lines.push(
    '.SH FILES',
    '.TP', '.I ~/.cache/qemunet/images', 'built and downloaded images (QEMUNET_IMAGES)',
    '.TP', '.I ~/.cache/qemunet/accel.json', 'the KVM verdict, per machine boot',
    '.SH SEE ALSO',
    'qemunet doctor checks this machine; qemunet completion bash|zsh prints a completion script.',
    '',
  );
  return lines.join('\n');
}

/** Escapes roff: backslashes, and a leading . or ' that would read as a request. */
function esc(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1');
}
