import { readFile, writeFile } from 'node:fs/promises';

/**
 * KSM (kernel same-page merging): QEMU marks guest RAM mergeable, so guests that boot the same kernel
 * and image share their identical pages once the kernel's ksmd is running. It is machine-wide and off
 * by default; qemunet turns it on only when asked (QEMUNET_KSM=on), else it says how.
 */
export const KSM_RUN_FILE = '/sys/kernel/mm/ksm/run';

/** From this many VMs on, a lab with KSM off gets the hint. */
export const KSM_HINT_VMS = 8;

export interface KsmSituation {
  /** The content of KSM_RUN_FILE (0 off, 1 on, 2 unmerging), undefined without KSM in the kernel. */
  run: string | undefined;
  /** What the user wants (QEMUNET_KSM, checked by the CLI): KSM turned on, no hint, else a hint for big labs. */
  wanted: 'on' | 'off' | undefined;
  vms: number;
}

export interface KsmAction {
  turnOn: boolean;
  notice?: string;
}

const ENABLE = `echo 1 | sudo tee ${KSM_RUN_FILE}`;

/** What to do about KSM for a lab of `vms` VMs. Pure: the caller reads the file and writes it. */
export function ksmAction(s: KsmSituation): KsmAction {
  if (s.run === '1' || s.wanted === 'off') return { turnOn: false };
  if (s.run === undefined) return s.wanted === 'on' ? { turnOn: false, notice: `warning: QEMUNET_KSM=on, but this kernel has no KSM (${KSM_RUN_FILE} is missing)` } : { turnOn: false };
  if (s.wanted === 'on') return { turnOn: true };
  if (s.vms < KSM_HINT_VMS) return { turnOn: false };
  return { turnOn: false, notice: `hint: KSM is off; with it, ${s.vms} VMs of one image share their identical pages (about half of an idle tiny VM's memory): ${ENABLE}, or QEMUNET_KSM=on when qemunet may write ${KSM_RUN_FILE} (QEMUNET_KSM=off silences this)` };
}

/** Reads KSM's state, turns it on if asked and allowed, and gives the notice to show, if any. */
export async function settleKsm(wanted: KsmSituation['wanted'], vms: number, runFile = KSM_RUN_FILE): Promise<string | undefined> {
  const run = await readFile(runFile, 'utf8').then((t) => t.trim(), () => undefined);
  const action = ksmAction({ run, wanted, vms });
  if (!action.turnOn) return action.notice;
  try {
    await writeFile(runFile, '1');
    return `turned KSM on (QEMUNET_KSM=on): the VMs share their identical pages; it stays on after the session (echo 0 > ${runFile} turns it off)`;
  } catch (e) {
    return `warning: QEMUNET_KSM=on, but KSM could not be turned on (${(e as NodeJS.ErrnoException).code}: ${runFile} needs root): ${ENABLE}`;
  }
}
