import { pollUntil } from '../process/poll.js';
import { QemunetError } from '../errors.js';
import type { FaultName } from '../protocol/fault-names.js';
import { wirefilterCommands, type LinkFaults } from '../topology/link-syntax.js';
import { MgmtClient } from './mgmt-client.js';
import { MGMT_SUCCESS, WIREFILTER_PROMPT } from './mgmt-protocol.js';

/** Sets a NIC's faults through its wirefilter's management socket; returns the wirefilter's own summary. */
export async function setWireFaults(mgmt: string, nic: string, faults: LinkFaults): Promise<string[]> {
  const client = await connectWire(mgmt, nic);
  try {
    for (const command of wirefilterCommands(faults)) {
      const r = await client.send(command);
      if (r.code !== MGMT_SUCCESS) throw new QemunetError('LINK_SETTING', `the wirefilter of ${nic} refused "${command}": ${r.code} ${r.message}`);
    }
    return (await client.send('showinfo')).data;
  } finally {
    client.close();
  }
}

/** How a wirefilter's `showinfo` heads the line of each fault. */
const SHOWINFO_HEADS: Readonly<Record<FaultName, string>> = { delay: 'Delay', loss: 'Loss', dup: 'Dup', bandwidth: 'Bandw', mtu: 'MTU' };

/** The lines of a wirefilter's own summary (`showinfo`) that say what it does to frames: one per fault. Pure. */
export function faultLines(showinfo: readonly string[]): string[] {
  const heads = Object.values(SHOWINFO_HEADS);
  return showinfo.filter((line) => heads.some((head) => line.startsWith(`${head} `)));
}

/** A wirefilter's own account of the faults it puts on frames now (`showinfo`), changing nothing. */
export async function wireInfo(mgmt: string, nic: string): Promise<string[]> {
  return faultLines(await setWireFaults(mgmt, nic, {}));
}

/** The management socket appears a moment after dpipe starts the wirefilter. */
async function connectWire(mgmt: string, nic: string): Promise<MgmtClient> {
  let lastError: unknown;
  const client = await pollUntil(
    () =>
      MgmtClient.connect(mgmt, `wirefilter of ${nic}`, WIREFILTER_PROMPT).catch((e: unknown) => {
        lastError = e;
        return undefined;
      }),
    { timeoutMs: 15000, intervalMs: 50 },
  );
  if (!client) throw lastError;
  return client;
}
