/**
 * The names of a link's faults, as `qemunet link --NAME`, a topology's `LINK host:ethN NAME=VALUE`
 * and the faults of the control protocol's `faults` command know them: the one list. It has no
 * import, so the web page can take it without bundling the schema library.
 */
export const FAULT_NAMES = ['delay', 'loss', 'dup', 'bandwidth', 'mtu'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
