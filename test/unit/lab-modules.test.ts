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
import { LabLinks } from '../../src/lab/driver/link.js';
import { LabChecks } from '../../src/lab/driver/lab-checks.js';
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
  startCapture(nic: number, file: string, id: string): Promise<() => Promise<void>> {
    return this.record(`capture ${nic} ${file} ${id}`).then(() => () => this.record(`end ${id}`));
  }
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
    const links = new LabLinks({ plan, status, network, node: (name) => nodes.get(name) });
    const target: ControlTarget = {
      plan,
      status,
      links,
      checks: new LabChecks(plan, sessionPaths('/s'), status),
      events: new EventEmitter(),
      node: (name) => nodes.get(name),
      nodes: () => [...nodes.entries()],
      restart: (name) => Promise.resolve(name),
      stop: () => Promise.resolve(),
      stopTimeoutMs: 1000,
    };
    const send = (c: ControlCommand) => new LabControl(target).handle(c, CONNECTION);
    const handle = (c: ControlCommand, conn: ControlConnection) => new LabControl(target).handle(c, conn);
    return { lab: new LabControl(target), status, nodes, wires, links, send, handle };
  }

  it("link: a QEMU NIC through its carrier, a UML NIC through its wire; each NIC's status records whether it is up", async () => {
    const { lab, status, nodes, wires } = control();
    assert.deepEqual([status.nic('q', 0).up, status.nic('u', 0).up], [true, true]);
    await lab.handle({ cmd: 'link', host: 'q', nic: 0, up: false }, CONNECTION);
    await lab.handle({ cmd: 'link', host: 'u', nic: 0, up: false }, CONNECTION);
    assert.deepEqual(nodes.get('q')!.calls, ['link 0 false']);
    assert.deepEqual(wires, ['u 0 down']);
    assert.deepEqual([status.nic('q', 0).up, status.nic('u', 0).up], [false, false]);
    await lab.handle({ cmd: 'link', host: 'q', nic: 0, up: true }, CONNECTION);
    assert.equal(status.nic('q', 0).up, true);
  });

  it('a host started again has its links up', async () => {
    const { send, status, links } = control();
    await send({ cmd: 'link', host: 'u', nic: 0, up: false });
    links.hostRestarted('u');
    assert.equal(status.nic('u', 0).up, true);
  });

  it('wired: planned on every UML NIC, and recorded once faults put a wirefilter in live on a QEMU NIC', async () => {
    const { send, status } = control();
    assert.deepEqual([status.nic('q', 0).wired, status.nic('u', 0).wired], [false, true]);
    await send({ cmd: 'faults', host: 'q', nic: 0, faults: { lossPct: 1 } });
    assert.equal(status.nic('q', 0).wired, true);
  });

  it('captures: recorded on the NIC while they run, gone when stopped, when their connection closes or when the host goes', async () => {
    const { send, handle, status, nodes, links } = control();
    const closers: Array<() => Promise<unknown>> = [];
    const conn = { notify: () => {}, onClose: (f: () => Promise<unknown>) => void closers.push(f) } as unknown as ControlConnection;
    const first = await links.startCapture('q', 0, '/tmp/one.pcap');
    const second = (await handle({ cmd: 'capture', host: 'q', nic: 0, file: '/tmp/two.pcap' }, conn)) as string;
    assert.deepEqual([first, second], ['capture1', 'capture2']);
    assert.deepEqual(status.nic('q', 0).captures?.map((c) => c.id), ['capture1', 'capture2']);
    assert.match(status.nic('q', 0).captures![0]!.since, /^\d{4}-\d\d-\d\dT/);
    assert.equal(await send({ cmd: 'capture-stop', id: first }), first);
    assert.deepEqual(status.nic('q', 0).captures?.map((c) => c.id), ['capture2']);
    await Promise.all(closers.map((close) => close()));
    assert.equal('captures' in status.nic('q', 0), false, 'none left: no field');
    assert.deepEqual(nodes.get('q')!.calls, ['capture 0 /tmp/one.pcap capture1', 'capture 0 /tmp/two.pcap capture2', 'end capture1', 'end capture2']);
    await send({ cmd: 'capture-stop', id: first });
    assert.deepEqual(nodes.get('q')!.calls.slice(-1), ['end capture2'], 'each capture ends once');
    await links.startCapture('q', 0, '/tmp/three.pcap');
    links.hostGone('q');
    assert.equal('captures' in status.nic('q', 0), false);
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
    const { send, nodes, status } = control();
    await assert.rejects(send({ cmd: 'link', host: 'zz', nic: 0, up: false }), { code: 'UNKNOWN_HOST' });
    await assert.rejects(send({ cmd: 'link', host: 'q', nic: 3, up: false }), { code: 'UNKNOWN_NIC', message: 'q has no eth3; it has eth0' });
    await assert.rejects(send({ cmd: 'capture', host: 'u', nic: 0, file: '/tmp/x.pcap' }), { code: 'NOT_SUPPORTED' });
    nodes.get('q')!.running = false;
    for (const c of [{ cmd: 'link', host: 'q', nic: 0, up: false }, { cmd: 'faults', host: 'q', nic: 0, faults: { lossPct: 1 } }, { cmd: 'capture', host: 'q', nic: 0, file: '/tmp/x.pcap' }] as const) {
      await assert.rejects(send(c), { code: 'HOST_NOT_RUNNING', message: 'host q is not running' });
    }
    assert.deepEqual(status.nic('q', 0), { eth: 'eth0', switch: 's1', port: 1, mac: status.nic('q', 0).mac, up: true, wired: false }, 'nothing recorded');
  });

  it('runs lab checks in the session: a file it has not, a host the lab has not, and a host not up are each said so', async () => {
    const { send, status } = control();
    await assert.rejects(send({ cmd: 'check' }), { code: 'CHECKS_MISSING', message: /^this session has no checks file \(\/s\/checks: ENOENT\)/ });
    await assert.rejects(send({ cmd: 'check', checks: 'CHECK "x" ping zz 10.0.0.1\n', file: 'lab.checks' }), { code: 'CHECKS_INVALID', message: 'lab.checks:1:16: no host "zz" in the topology /t/mixed.topo; its hosts: q, u' });
    const checks = 'CHECK "q reaches u" ping q 10.0.0.2\nCHECK "secret" hidden exec q "id" ~ "root"\n';
    const r = (await send({ cmd: 'check', checks, file: 'lab.checks' })) as { report: string; passed: boolean; score: unknown };
    assert.match(r.report, /^ERROR q reaches u — seen: host q is pending\nscore: 0\/1 point, 0 of 1 check passed\n$/);
    assert.deepEqual([r.passed, r.score], [false, { earned: 0, possible: 1, passed: 0, total: 1 }]);
    const recorded = status.state().checks!;
    assert.deepEqual([recorded.running, recorded.student, recorded.checks.map((c) => [c.name, c.status]), recorded.score], [false, 'bob', [['q reaches u', 'error']], { earned: 0, possible: 1, passed: 0, total: 1 }]);
    assert.ok(!JSON.stringify(status.state()).includes('secret'), 'a hidden check leaves no trace in the state a student reads');
    const teacher = (await send({ cmd: 'check', checks, view: 'teacher', format: 'json' })) as { report: string };
    assert.deepEqual((JSON.parse(teacher.report) as { checks: Array<{ name: string; hidden: boolean }> }).checks.map((c) => [c.name, c.hidden]), [['q reaches u', false], ['secret', true]]);
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
