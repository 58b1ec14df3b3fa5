// Each kind registers itself when its module is loaded.
import './qemu.js';
import './uml.js';

export { capabilitiesOf, capabilityOf, CapabilityError, type Capability, type HostKindDriver } from './kind.js';
export { kindNamed, kindOf, kindOfSystem, registeredKinds } from './registry.js';
