import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { builtinCatalog } from '../../src/config/catalog.js';
import { builtImagePaths } from '../../src/images/store.js';
import { LabControl, type ControlTarget } from '../../src/lab/driver/control-handler.js';
import type { ControlCommand, ControlConnection } from '../../src/lab/driver/control-server.js';
import type { LabNetwork } from '../../src/lab/driver/network.js';
import { planLab, type LabPlan, type PlanOptions } from '../../src/lab/plan.js';
import { SessionStatus } from '../../src/lab/driver/session-status.js';
import type { SessionState } from '../../src/lab/state.js';
import type { NodeExit, RunningNode } from '../../src/node/kind.js';
import { sessionPaths } from '../../src/session/paths.js';
import type { LinkFaults } from '../../src/protocol/faults.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';

const CATALOG = builtinCatalog((n) => builtImagePaths('/store', n));
const OPTIONS: PlanOptions = { accel: 'tcg', aliases: new Map(), display: 'none', internet: false, quiet: false, kernelArgs: [], user: 'bob', mountDir: false, mountDisk: false, existingDisks: new Set(), configFiles: [] };

function mixedPlan(dir: string): LabPlan {
  const topology = 'SWITCH s1\nHOST tiny q s1\nHOST tiny-uml u s1\n';
  return planLab(resolveTopology(parseTopology(topology, '/t/mixed.topo')), CATALOG, sessionPaths(dir), OPTIONS);
}

/** A node that records what it was asked to do. */
class RecordingNode implements RunningNode {
  readonly calls: string[] = [];
  readonly pid = 4242;
  running = true;
  paused = false;
  readonly exited = new Promise<NodeExit>(() => {});
  readonly stderr = '';
  constructor(
    readonly name: string,
    readonly kind: 'qemu' | 'uml',
  ) {
    if (kind === 'qemu') this.setLink = (nic, up) => this.record(`link ${nic} ${up}`);
  }
  setLink?: (nic: number, up: boolean) => Promise<void>;
  private record(call: string): Promise<void> {
    this.calls.push(call);
    return Promise.resolve();
  }
  onConsoleOutput(): void {}
  writeConsole(): void {}
  resume = () => this.record('resume');
  freeze = () => this.record('freeze');
  waitReady = () => Promise.reject(new Error('not used'));
  stop = () => this.record('stop').then(() => ({ code: 0, signal: null }));
  kill = () => this.record('kill').then(() => ({ code: null, signal: 'SIGKILL' as const }));
}

const CONNECTION: ControlConnection = { notify: () => {}, onClose: () => {} } as unknown as ControlConnection;

describe('session status', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const tmp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qemunet-status-'));
    dirs.push(dir);
    return dir;
  };

  it('starts every host pending, writes each burst of changes to the state file, then hands on what it wrote', async () => {
    const dir = await tmp();
    const seen: SessionState[] = [];
    const status = new SessionStatus(mixedPlan(dir), join(dir, 'state.json'), 'tcg', (s) => seen.push(s));
    assert.deepEqual(status.hosts().map((h) => [h.name, h.kind, h.state]), [['q', 'qemu', 'pending'], ['u', 'uml', 'pending']]);
    status.updateHost('q', { state: 'ready', readyMs: 1200, detail: 'x' });
    status.updateHost('q', { detail: undefined });
    await status.flush();
    const written = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as SessionState;
    assert.deepEqual(written.hosts[0]!.state, 'ready');
    assert.equal('detail' in written.hosts[0]!, false);
    // One burst, one write, one hand-over: the state as written.
    assert.deepEqual(seen, [written]);
    status.updateHost('q', { state: 'crashed' });
    assert.equal(seen.length, 1, 'not handed on before it is written');
    await status.flush();
    assert.deepEqual(seen.map((s) => s.hosts[0]!.state), ['ready', 'crashed']);
  });

  it('keeps the first error as the cause', async () => {
    const dir = await tmp();
    const status = new SessionStatus(mixedPlan(dir), join(dir, 'state.json'), 'tcg', () => {});
    status.keepError('closing the consoles: EBUSY');
    status.keepError('writing the state file: ENOSPC');
    assert.equal(status.state().error, 'closing the consoles: EBUSY');
  });

  it('names an unknown host and the hosts there are', async () => {
    const status = new SessionStatus(mixedPlan(await tmp()), '/nonexistent/state.json', 'tcg', () => {});
    assert.throws(() => status.host('zz'), { code: 'UNKNOWN_HOST', message: 'the session has no host zz; hosts: q, u' });
  });

  it('waitReady: resolves when every agent host is ready, woken by the change', async () => {
    const status = new SessionStatus(mixedPlan(await tmp()), '/nonexistent/state.json', 'tcg', () => {});
    const waiting = status.waitReady(60_000, () => Promise.resolve(''));
    status.updateHost('q', { state: 'ready' });
    setImmediate(() => status.updateHost('u', { state: 'ready' }));
    await waiting;
  });

  it('waitReady: fails at once on a crashed or stalled host, and at the timeout names the others with their consoles', async () => {
    const status = new SessionStatus(mixedPlan(await tmp()), '/nonexistent/state.json', 'tcg', () => {});
    await assert.rejects(status.waitReady(10, (hosts) => Promise.resolve(`tails of ${hosts.join('+')}`)), { code: 'NOT_READY', message: 'not ready after 0 s: q, u\ntails of q+u' });
    status.updateHost('u', { state: 'stalled', detail: 'silent for 30 s' });
    await assert.rejects(status.waitReady(60_000, () => Promise.resolve('')), { code: 'HOST_FAILED', message: 'u stalled (silent for 30 s)' });
  });
});

describe('control actions', () => {
  function control(phase: 'running' | 'stopping' = 'running') {
    const plan = mixedPlan('/s');
    const status = new SessionStatus(plan, '/nonexistent/state.json', 'tcg', () => {});
    status.setPhase(phase);
    const nodes = new Map<string, RecordingNode>([['q', new RecordingNode('q', 'qemu')], ['u', new RecordingNode('u', 'uml')]]);
    const wires: string[] = [];
    // What reaches the wirefilters; the real ones are in test/system/session-protocol.test.ts.
    const network = {
      setWireLink: (host: string, nic: number, up: boolean, lossPct: number) => Promise.resolve(void wires.push(`${host} ${nic} ${up ? `up, loss ${lossPct}` : 'down'}`)),
      setFaults: (host: string, nic: number, faults: LinkFaults) => Promise.resolve([`${host} ${nic} ${JSON.stringify(faults)}`]),
    } as unknown as LabNetwork;
    const target: ControlTarget = {
      plan,
      status,
      network,
      events: new EventEmitter(),
      node: (name) => nodes.get(name),
      nodes: () => [...nodes.entries()],
      restart: (name) => Promise.resolve(name),
      stop: () => Promise.resolve(),
      stopTimeoutMs: 1000,
    };
    const send = (c: ControlCommand) => new LabControl(target).handle(c, CONNECTION);
    return { lab: new LabControl(target), status, nodes, wires, send };
  }

  it('link: a QEMU NIC through its carrier, a UML NIC through its wire; the status lists the NICs down', async () => {
    const { lab, status, nodes, wires } = control();
    await lab.handle({ cmd: 'link', host: 'q', nic: 0, up: false }, CONNECTION);
    await lab.handle({ cmd: 'link', host: 'u', nic: 0, up: false }, CONNECTION);
    assert.deepEqual(nodes.get('q')!.calls, ['link 0 false']);
    assert.deepEqual(wires, ['u 0 down']);
    assert.deepEqual(status.host('q').linksDown, ['eth0']);
    await lab.handle({ cmd: 'link', host: 'q', nic: 0, up: true }, CONNECTION);
    assert.deepEqual(status.host('q').linksDown, []);
  });

  it('faults: sent as given to the wirefilter, recorded in the state merged with those set before (0 clears one)', async () => {
    const { send, status } = control();
    assert.deepEqual(await send({ cmd: 'faults', host: 'q', nic: 0, faults: { delay: { ms: 40, jitterMs: 0 } } }), { faults: { delay: { ms: 40, jitterMs: 0 } }, wirefilter: ['q 0 {"delay":{"ms":40,"jitterMs":0}}'] });
    await send({ cmd: 'faults', host: 'q', nic: 0, faults: { lossPct: 10 } });
    assert.deepEqual(status.host('q').nics[0]!.faults, { delay: { ms: 40, jitterMs: 0 }, lossPct: 10 });
    await send({ cmd: 'faults', host: 'q', nic: 0, faults: { delay: { ms: 0, jitterMs: 0 }, lossPct: 0 } });
    assert.equal('faults' in status.host('q').nics[0]!, false, 'no faults left: no field');
    await assert.rejects(send({ cmd: 'faults', host: 'q', nic: 4, faults: { lossPct: 1 } }), { code: 'UNKNOWN_NIC', message: 'q has no eth4; it has eth0' });
  });

  it('a UML link cut in its wirefilter gives back the loss set live, also one set while it was down', async () => {
    const { send, status, wires } = control();
    await send({ cmd: 'faults', host: 'u', nic: 0, faults: { lossPct: 20 } });
    await send({ cmd: 'link', host: 'u', nic: 0, up: false });
    assert.deepEqual(await send({ cmd: 'faults', host: 'u', nic: 0, faults: { lossPct: 30, dupPct: 1 } }), { faults: { lossPct: 30, dupPct: 1 }, wirefilter: ['u 0 {"dupPct":1}'] }, 'the loss waits for link up');
    await send({ cmd: 'link', host: 'u', nic: 0, up: true });
    assert.deepEqual(wires, ['u 0 down', 'u 0 up, loss 30']);
    assert.deepEqual(status.host('u').nics[0]!.faults, { lossPct: 30, dupPct: 1 });
  });

  it('refuses what does not exist or cannot be done, naming it', async () => {
    const { send } = control();
    await assert.rejects(send({ cmd: 'link', host: 'zz', nic: 0, up: false }), { code: 'UNKNOWN_HOST' });
    await assert.rejects(send({ cmd: 'link', host: 'q', nic: 3, up: false }), { code: 'UNKNOWN_NIC', message: 'q has no eth3; it has eth0' });
    await assert.rejects(send({ cmd: 'capture', host: 'u', nic: 0, file: '/tmp/x.pcap' }), { code: 'NOT_SUPPORTED' });
  });

  it('freeze stops the running CPUs and thaw resumes those only', async () => {
    const { lab, nodes } = control();
    nodes.get('u')!.paused = true;
    assert.deepEqual(await lab.handle({ cmd: 'freeze' }, CONNECTION), ['q']);
    assert.deepEqual(await lab.handle({ cmd: 'thaw' }, CONNECTION), ['q']);
    assert.deepEqual(nodes.get('q')!.calls, ['freeze', 'resume']);
    assert.deepEqual(nodes.get('u')!.calls, []);
  });

  it('acts only while the session runs, except for a subscription', async () => {
    const { send } = control('stopping');
    await assert.rejects(send({ cmd: 'power-off', host: 'q' }), { code: 'SESSION_BUSY', message: 'the session is stopping' });
    const state = (await send({ cmd: 'subscribe' })) as SessionState;
    assert.equal(state.phase, 'stopping');
  });
});
