import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pollUntil } from '../../src/process/poll.js';
import { launchSwitch } from '../../src/switch/launch.js';
import { MgmtClient } from '../../src/switch/mgmt-client.js';
import { VDE_SWITCH_PORTS, vdeSwitchArgv } from '../../src/switch/vde-argv.js';
import { suiteDir } from '../helpers/tiny.js';

/** Ports of the plugs that connect while the slow one waits: more than vde_switch needs to cross-wire. */
const QUICK_PORTS = Array.from({ length: 12 }, (_, i) => 10 + i);
const SLOW_PORT = 1;

/**
 * Plugs that connect to one switch at once, as the QEMUs of a lab do, with real vde_switch and
 * vde_plug processes. One plug's request is held back between its connect() and its write() (a
 * QEMU descheduled there on a loaded machine; no real program waits there on demand, so a proxy in
 * this test holds its bytes) while twelve others get their ports. Each plug then sends one frame from
 * its own MAC, and the switch's MAC table must put each MAC on that plug's port.
 */
describe('plugs connecting to a switch at once each stay on their own port', { timeout: 120000 }, () => {
  const tmp = suiteDir('plugs');
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
    await tmp.remove();
  });

  /** A plug on `port` of the switch whose control socket directory is `socket`, framing on stdin. */
  const plug = (socket: string, port: number): ChildProcess => {
    const child = spawn('vde_plug', [`vde://${socket}[${port}]`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin!.on('error', () => {});
    children.push(child);
    return child;
  };
  /** vde_switch names a port's data socket PORT.FD (three digits) once the port is made. */
  const portMade = (socket: string, port: number) =>
    pollUntil(async () => ((await readdir(socket)).some((f) => f.startsWith(`${String(port).padStart(3, '0')}.`)) ? true : undefined), { timeoutMs: 10000, intervalMs: 5 }).then((made) =>
      assert.ok(made, `port ${port} was not made`),
    );

  /** A plug whose request reaches the switch only on release(): its connection is accepted at once. */
  const slowPlug = async (dir: string, socket: string, port: number) => {
    const proxy = join(dir, 'proxy');
    await mkdir(proxy);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let requestHeld!: () => void;
    const held = new Promise<void>((resolve) => (requestHeld = resolve));
    const server = createServer((client: Socket) => {
      const upstream = connect(join(socket, 'ctl'));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.pipe(client);
      const pending: Buffer[] = [];
      client.on('data', (d: Buffer) => {
        pending.push(d);
        requestHeld();
      });
      void released.then(() => {
        upstream.write(Buffer.concat(pending));
        client.removeAllListeners('data');
        client.pipe(upstream);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(join(proxy, 'ctl'), resolve));
    const child = plug(proxy, port);
    await held;
    return { child, release };
  };

  /** One Ethernet broadcast from 02:00:00:00:00:PORT, in vde_plug's stream framing (2-byte length). */
  const sendFrame = (child: ChildProcess, port: number) => {
    const frame = Buffer.concat([Buffer.alloc(6, 0xff), Buffer.from([2, 0, 0, 0, 0, port]), Buffer.from([0x08, 0x06]), Buffer.alloc(46)]);
    const header = Buffer.from([frame.length >> 8, frame.length & 0xff]);
    child.stdin!.write(Buffer.concat([header, frame]));
  };

  /** The switch's MAC table: the port each plug's MAC was learned on, by the port it should be. */
  const learnedPorts = async (mgmt: string, ports: number[]): Promise<Map<number, number>> => {
    const client = await MgmtClient.connect(mgmt, 's');
    try {
      const table = await pollUntil(
        async () => {
          const learned = new Map<number, number>();
          for (const line of (await client.send('hash/print')).data) {
            const m = /Addr: 02:00:00:00:00:([0-9a-f]{2}) VLAN \d+ to port: (\d+)/.exec(line);
            if (m) learned.set(parseInt(m[1]!, 16), Number(m[2]));
          }
          return ports.every((p) => learned.has(p)) ? learned : undefined;
        },
        { timeoutMs: 10000, intervalMs: 50 },
      );
      assert.ok(table, 'not every frame reached the switch');
      return table;
    } finally {
      client.close();
    }
  };

  /** The slow plug, the quick ones while it waits, a frame from each: which port learned which MAC. */
  const connectAtOnce = async (name: string, guarded: boolean): Promise<Map<number, number>> => {
    const dir = join(tmp.path, name);
    await mkdir(dir);
    const socket = join(dir, 'switch');
    const mgmt = join(dir, 's.mgmt');
    const portsInUse = QUICK_PORTS.length + 1;
    const argv = vdeSwitchArgv({ name: 's', hub: false, socket, mgmt });
    const sw = guarded ? await launchSwitch({ name: 's', argv, socket, logFile: join(dir, 's.log'), portsInUse }) : await bareSwitch(argv, socket, mgmt);
    try {
      const slow = await slowPlug(dir, socket, SLOW_PORT);
      const quick = new Map<number, ChildProcess>();
      for (const port of QUICK_PORTS) {
        quick.set(port, plug(socket, port));
        await portMade(socket, port);
      }
      slow.release();
      await portMade(socket, SLOW_PORT);
      sendFrame(slow.child, SLOW_PORT);
      for (const [port, child] of quick) sendFrame(child, port);
      return await learnedPorts(mgmt, [SLOW_PORT, ...QUICK_PORTS]);
    } finally {
      await sw.stop();
    }
  };
  /** vde_switch as Debian ships it, with nothing connected to it. */
  const bareSwitch = async (argv: string[], socket: string, mgmt: string) => {
    const child = spawn('vde_switch', argv, { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(child);
    const up = await pollUntil(async () => ((await stat(join(socket, 'ctl')).catch(() => undefined)) && (await stat(mgmt).catch(() => undefined)) ? true : undefined), { timeoutMs: 10000, intervalMs: 10 });
    assert.ok(up, 'vde_switch did not start');
    return { stop: () => Promise.resolve(void child.kill('SIGKILL')) };
  };
  const misplaced = (learned: Map<number, number>) => [...learned].filter(([mac, port]) => mac !== port).map(([mac, port]) => `02:..:${mac.toString(16).padStart(2, '0')} on port ${port}`);

  test("without qemunet's ballast, vde_switch 2.3.2 cross-wires a port (the defect this guards against is real)", async () => {
    const learned = await connectAtOnce('bare', false);
    assert.notDeepEqual(misplaced(learned), [], 'vde_switch no longer cross-wires plugs that connect at once: CtlBallast may no longer be needed');
  });

  test('with the ballast a switch of the lab opens, every MAC is learned on its own port', async () => {
    const learned = await connectAtOnce('guarded', true);
    assert.deepEqual(misplaced(learned), []);
    assert.equal(learned.size, QUICK_PORTS.length + 1);
  });

  test("a switch of the lab has QemuNet's port 32 (its 12th trunk) and the ports above it for live wirefilters", async () => {
    const dir = join(tmp.path, 'ports');
    await mkdir(dir);
    const socket = join(dir, 'switch');
    const mgmt = join(dir, 's.mgmt');
    const sw = await launchSwitch({ name: 's', argv: vdeSwitchArgv({ name: 's', hub: false, socket, mgmt }), socket, logFile: join(dir, 's.log'), portsInUse: 2 });
    try {
      const ports = [32, VDE_SWITCH_PORTS - 1];
      const plugs = ports.map((port) => [port, plug(socket, port)] as const);
      for (const port of ports) await portMade(socket, port);
      for (const [port, child] of plugs) sendFrame(child, port);
      assert.deepEqual([...(await learnedPorts(mgmt, ports))], ports.map((p) => [p, p]));
    } finally {
      await sw.stop();
    }
  });
});
