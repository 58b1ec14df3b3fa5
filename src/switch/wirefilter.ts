import { pollUntil } from '../process/poll.js';
import { QemunetError } from '../errors.js';
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

/** A wirefilter's own summary of what it does (`showinfo`), changing nothing. */
export function wireInfo(mgmt: string, nic: string): Promise<string[]> {
  return setWireFaults(mgmt, nic, {});
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
