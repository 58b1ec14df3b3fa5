import { InputError } from '../errors.js';
import type { ChecksFile } from './types.js';

/** What the checks need of a lab: its topology file and its hosts' names. */
export interface LabHosts {
  file: string;
  hosts: ReadonlyArray<{ name: string }>;
}

/**
 * Every host a check runs on is a host of the lab's topology: otherwise an error at the check's
 * host name, listing the hosts there are. Apart from parseChecks, since a checks file can be read
 * (and its syntax reported) before the topology it goes with is known.
 */
export function checkAgainstTopology(checks: ChecksFile, topology: LabHosts): void {
  const hosts = topology.hosts.map((h) => h.name);
  for (const c of checks.checks) {
    if (!hosts.includes(c.host)) {
      throw new InputError('CHECKS_INVALID', checks.file, c.line, c.hostColumn, `no host "${c.host}" in the topology ${topology.file}; its hosts: ${hosts.join(', ') || 'none'}`);
    }
  }
}
