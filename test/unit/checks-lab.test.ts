import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { prepareChecks, reportText, runChecks, type CheckExecutor, type ExecOutcome, type ParamValues } from '../../src/checks/index.js';
import { parseTopology } from '../../src/topology/parse.js';
import { resolveTopology } from '../../src/topology/resolve.js';
import { fixture } from '../helpers/fixtures.js';
import { VirtualClock } from '../helpers/virtual-clock.js';

const EXAMPLE = fileURLToPath(new URL('../../../test/fixtures/checks/issue-20-example/checks', import.meta.url));

/** What a lab does, as far as the checks can tell: who answers whom, what listens, what commands print. */
interface LabModel {
  reaches: Record<string, string[]>;
  listening: string[];
  commands: Record<string, Record<string, string>>;
  files: Record<string, Record<string, string>>;
}

/** QemuNet's gw lab, working, with the flag server giving `flag` and immortal on the student's `net`. */
function gwLab(values: ParamValues): LabModel {
  const flag = values.get('flag') as { value: string };
  const net = values.get('net') as { network: number };
  const net1 = [24, 16, 8, 0].map((s) => Math.floor((net.network + 1) / 2 ** s) % 256).join('.');
  return {
    reaches: { opeth: ['147.210.15.2'], grave: [], immortal: [net1] },
    listening: ['147.210.15.2:80'],
    commands: {
      opeth: { 'ip -4 addr show eth0': '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP>\n    inet 192.168.0.10/24 brd 192.168.0.255 scope global eth0\n', 'nc -w 3 192.168.0.100 2000': `Your flag is: ${flag.value}\n` },
      syl: { 'nslookup opeth.qemunet.org 10.0.0.1': 'Name:\topeth.qemunet.org\nAddress: 192.168.0.10\n' },
      immortal: { 'ip route': 'default via 147.210.12.2 dev eth0\n147.210.12.0/24 dev eth0 proto kernel scope link\n' },
    },
    files: { grave: { '/proc/net/route': 'Iface\tDestination\tGateway\neth0\t000CA8C0\t00000000\n' } },
  };
}

/** Answers the runner's guest commands from the model, as the guests' tools would. */
function modelExecutor(lab: LabModel, clock: VirtualClock): CheckExecutor {
  const o = (status: number, stdout = '', stderr = ''): ExecOutcome => ({ status, stdout, stderr });
  return {
    async exec(host, argv) {
      await clock.sleep(50);
      const last = argv[argv.length - 1]!;
      switch (argv[0]) {
        case 'ping':
          return lab.reaches[host]?.includes(last) ? o(0, `64 bytes from ${last}: icmp_seq=1 ttl=64\n`) : o(1, '1 packets transmitted, 0 received, 100% packet loss\n');
        case 'nc': {
          const target = `${argv[argv.length - 2]}:${last}`;
          return lab.listening.includes(target) ? o(0, '', `Connection to ${target} succeeded!\n`) : o(1, '', `nc: connect to ${target} (tcp) failed: Connection refused\n`);
        }
        case 'timeout': {
          const out = lab.commands[host]?.[last];
          return out === undefined ? o(127, '', `sh: 1: ${last.split(' ')[0]}: not found\n`) : o(0, out);
        }
        case 'cat': {
          const text = lab.files[host]?.[last];
          return text === undefined ? o(1, '', `cat: ${last}: No such file or directory\n`) : o(0, text);
        }
        default:
          return o(127);
      }
    },
  };
}

async function check(student: string, lab: (v: ParamValues) => LabModel, labStudent = student): Promise<string> {
  const path = fixture('topologies', 'gw.topo');
  const topology = resolveTopology(parseTopology(await readFile(path, 'utf8'), path));
  const text = await readFile(EXAMPLE, 'utf8');
  const { checks } = prepareChecks(text, 'checks', topology, { student });
  const clock = new VirtualClock();
  const model = lab(prepareChecks(text, 'checks', topology, { student: labStudent }).values);
  return reportText(await runChecks(checks, { executor: modelExecutor(model, clock), clock }), { view: 'teacher' });
}

const ALL_PASS = `PASS  opeth reaches the router
PASS  grave is cut off from the DMZ
PASS  web server is up
PASS  nothing listens on telnet
PASS  opeth got its DHCP lease
PASS  dnsmasq names opeth
PASS  the flag
PASS  routes (2 points)
PASS  [hidden] no default route on grave
PASS  the lab net answers
score: 11/11 points, 10 of 10 checks passed
`;

describe("checks on a model of QemuNet's gw lab", () => {
  it('a working lab passes every check', async () => {
    assert.equal(await check('alice', gwLab), ALL_PASS);
  });

  it('a lab broken on purpose fails exactly the checks it should, with what was seen', async () => {
    const noRoute = (v: ParamValues) => {
      const lab = gwLab(v);
      lab.commands.immortal!['ip route'] = '147.210.12.0/24 dev eth0 proto kernel scope link\n';
      lab.reaches.grave = ['172.16.0.2'];
      lab.listening = [];
      return lab;
    };
    assert.equal(
      await check('alice', noRoute),
      `PASS  opeth reaches the router
FAIL  grave is cut off from the DMZ — seen: 64 bytes from 172.16.0.2: icmp_seq=1 ttl=64
FAIL  web server is up — seen: nc: connect to 147.210.15.2:80 (tcp) failed: Connection refused (exit 1)
PASS  nothing listens on telnet
PASS  opeth got its DHCP lease
PASS  dnsmasq names opeth
PASS  the flag
FAIL  routes (2 points) — seen: 147.210.12.0/24 dev eth0 proto kernel scope link
PASS  [hidden] no default route on grave
PASS  the lab net answers
score: 7/11 points, 7 of 10 checks passed
`,
    );
  });

  it("each student passes with their own values only: bob's checks on alice's lab fail the flag and the net", async () => {
    assert.equal(await check('bob', gwLab, 'bob'), ALL_PASS);
    const report = await check('bob', gwLab, 'alice');
    assert.deepEqual(report.split('\n').filter((l) => !l.startsWith('PASS')), [
      'FAIL  the flag — seen: Your flag is: 7bruhfwb',
      'FAIL  the lab net answers — seen: 1 packets transmitted, 0 received, 100% packet loss (exit 1)',
      'score: 9/11 points, 8 of 10 checks passed',
      '',
    ]);
  });
});
