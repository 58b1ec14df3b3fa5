import { readFileSync } from 'node:fs';

/**
 * Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. The command
 * name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
 */
export function parseStartTicks(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : undefined;
}

/**
 * What tells a process apart from any later one given the same pid: its start time and the boot
 * it started in. A pid alone cannot: after a crash or a reboot it may be anybody's. Undefined when
 * there is no such process (or /proc cannot say).
 */
export function processIdentity(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const ticks = parseStartTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return ticks && boot ? `${ticks}@${boot}` : undefined;
  } catch {
    return undefined;
  }
}
