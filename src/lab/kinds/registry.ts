import type { SystemEntry } from '../../config/catalog.js';
import type { RunningNode } from '../../node/kind.js';
import type { HostKind } from '../../protocol/session-state.js';
import type { HostPlan } from '../plan.js';
import type { HostKindDriver } from './kind.js';

/**
 * The host kinds, each registered by its own module (index.ts loads them all), as containerlab's
 * node registry does it. A driver is stored under the kind its plans carry, so it is only ever given
 * its own kind's plans and the nodes its own `launch` made: that is what lets the Lab hold every
 * driver as a HostKindDriver of any plan and node (the driver's members are methods, which
 * TypeScript lets a driver of one plan and node type stand for; this lookup is what makes it sound).
 */
const KINDS = new Map<HostKind, HostKindDriver>();

export function registerKind<P extends HostPlan, N extends RunningNode>(kind: HostKindDriver<P, N>): void {
  if (KINDS.has(kind.name)) throw new Error(`host kind ${kind.name} is registered twice`);
  KINDS.set(kind.name, kind);
}

/** The driver of a kind. */
export function kindNamed(name: HostKind): HostKindDriver {
  const kind = KINDS.get(name);
  if (!kind) throw new Error(`host kind ${name} is not registered; registered: ${[...KINDS.keys()].join(', ')}`);
  return kind;
}

/** The driver of a planned host. */
export function kindOf(h: HostPlan): HostKindDriver {
  return kindNamed(h.kind);
}

/** The kind of a system no kind claims (see HostKindDriver's `sys`). */
const DEFAULT_KIND: HostKind = 'qemu';

/** The kind that runs a system: the one that claims its SYS value, else QEMU. */
export function kindOfSystem(system: SystemEntry): HostKindDriver {
  return registeredKinds().find((k) => k.sys === system.sys) ?? kindNamed(DEFAULT_KIND);
}

/** Every registered kind, in registration order. */
export function registeredKinds(): HostKindDriver[] {
  return [...KINDS.values()];
}
