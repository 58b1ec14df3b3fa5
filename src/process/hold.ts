/**
 * Holds processes stopped (SIGSTOP) until the current turn of the event loop ends, then lets them
 * all go on (SIGCONT). A lab spawns its hosts' QEMUs in one synchronous loop, and Node's spawn()
 * waits for each child to exec: 64 QEMUs initialising meanwhile are 64 scheduling groups (each
 * detached child has its own session, so its own autogroup) against qemunet's one, which then got
 * about 1/65 of the CPUs, and the last of 64 spawns came 2-3 s after the first. Held, they take no
 * CPU until the last is spawned. A held process still dies with qemunet (PR_SET_PDEATHSIG's SIGKILL
 * and any SIGKILL reach a stopped process), and Node sees no stop: it waits for exits only.
 * Lowering their autogroups' nice value (/proc/PID/autogroup) instead works for root only: an
 * unprivileged user may change one such value each 100 ms.
 */
const held: number[] = [];

export function holdUntilTurnEnds(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return; // gone already: its exit is reported as usual
  }
  if (!held.length) setImmediate(releaseHeld);
  held.push(pid);
}

function releaseHeld(): void {
  for (const pid of held.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* killed meanwhile */
    }
  }
}
