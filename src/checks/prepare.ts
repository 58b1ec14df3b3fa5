import { parseChecks } from './parse.js';
import { resolveChecks, type ResolveOptions, type ResolvedChecks } from './resolve.js';
import { checkAgainstTopology, type LabHosts } from './topology-check.js';

/**
 * A checks file made ready to run on a lab, in the order its errors should come: its syntax, then
 * the hosts it names against the topology, then the student's parameters. What `qemunet check`
 * and `up --checks` call once, before any guest is asked anything.
 */
export function prepareChecks(text: string, file: string, topology: LabHosts, o: ResolveOptions = {}): ResolvedChecks {
  const parsed = parseChecks(text, file);
  checkAgainstTopology(parsed, topology);
  return resolveChecks(parsed, o);
}
