import { InputError } from '../errors.js';
import { nameProblem, splitNicRef } from '../protocol/names.js';
import { DISPLAY_MODES } from '../protocol/session-state.js';
import type { RawStatement, RawTopology } from './types.js';
import { parseLinkSetting, type LinkFaults } from './link-syntax.js';
import { parsePortVlans, parseVlanList } from './vlan-syntax.js';

export const KEYWORDS = ['SWITCH', 'HUB', 'HOST', 'TRUNK', 'TAP', 'LINK', 'sleep'] as const;
/** Linux interface names are at most 15 bytes. */
const TAP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9A-Fa-f:]+:[0-9A-Fa-f:]*\/\d{1,3})$/;
// The display modes are declared with the session's state, which records each host's.
export { DISPLAY_MODES, type DisplayMode } from '../protocol/session-state.js';

interface Token {
  text: string;
  column: number;
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) {
    if (m[0].startsWith('#')) break;
    tokens.push({ text: m[0], column: m.index + 1 });
  }
  return tokens;
}

/**
 * Reads a QemuNet topology as data: `SWITCH name`, `HUB name`, `HOST sys[/display] name sw...`,
 * `TRUNK sw1 sw2`, `sleep N`, comments and blank lines. QemuNet sources these files into bash;
 * here nothing is evaluated and anything else is an error at its file:line:column.
 */
export function parseTopology(text: string, file: string): RawTopology {
  if (!text.trim()) throw new InputError('TOPOLOGY_EMPTY', file, 1, 1, `the topology is empty; it needs at least one HOST line (keywords: ${KEYWORDS.join(', ')})`);
  const statements: RawStatement[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const tokens = tokenize(raw.replace(/\r$/, ''));
    if (!tokens.length) return;
    const [head, ...args] = tokens as [Token, ...Token[]];
    const fail = (t: Token, msg: string): never => {
      throw new InputError('TOPOLOGY_SYNTAX', file, line, t.column, msg);
    };
    const name = (t: Token | undefined, what: string): string => {
      if (!t) return fail({ text: '', column: raw.length + 1 }, `${head.text} needs ${what}`);
      checkName(t.text, what, (msg) => fail(t, msg));
      return t.text;
    };
    const noMore = (from: number) => {
      if (args.length > from) fail(args[from]!, `unexpected "${args[from]!.text}" after ${head.text} ${args.slice(0, from).map((a) => a.text).join(' ')}`);
    };
    switch (head.text) {
      case 'SWITCH':
      case 'HUB':
        statements.push({ kind: 'switch', name: name(args[0], 'a switch name'), hub: head.text === 'HUB', line });
        noMore(1);
        return;
      case 'TRUNK': {
        const vlanTok = args[2];
        const vlans = vlanTok ? parseVlanList(vlanTok.text) : undefined;
        if (vlans && !vlans.ok) return fail(vlanTok!, `${vlans.problem} (TRUNK s1 s2 [VLAN,VLAN...])`);
        statements.push({ kind: 'trunk', a: name(args[0], 'two switch names'), b: name(args[1], 'two switch names'), ...(vlans?.ok ? { vlans: vlans.value } : {}), line });
        noMore(3);
        return;
      }
      case 'sleep': {
        const t = args[0];
        if (!t || !/^\d+(\.\d+)?$/.test(t.text)) return fail(t ?? head, `sleep needs a number of seconds, like "sleep 5"`);
        statements.push({ kind: 'sleep', seconds: Number(t.text), line });
        noMore(1);
        return;
      }
      case 'HOST': {
        const sysTok = args[0];
        if (!sysTok) return fail(head, 'HOST needs a system, a host name and its switches: HOST sys[/display] name sw1 sw2 ...');
        const [system, display, extra] = sysTok.text.split('/');
        checkName(system!, 'a system name', (msg) => fail(sysTok, msg));
        if (extra !== undefined) fail(sysTok, `"${sysTok.text}": write sys or sys/display`);
        if (display !== undefined && !(DISPLAY_MODES as readonly string[]).includes(display)) {
          fail(sysTok, `unknown display mode "${display}"; allowed: ${DISPLAY_MODES.join(', ')}`);
        }
        const hostName = name(args[1], 'a host name after the system');
        const switches = args.slice(2).map((t) => {
          const [sw, vlans, more] = t.text.split(':');
          if (more !== undefined) fail(t, `"${t.text}": write switch or switch:VLANS`);
          const swName = name({ text: sw!, column: t.column }, 'a switch name');
          if (vlans === undefined) return { name: swName, column: t.column };
          const v = parsePortVlans(vlans);
          if (!v.ok) return fail({ text: vlans, column: t.column + sw!.length + 1 }, `${v.problem} (in ${t.text}; e.g. s1:100 untagged, s1:100,200 tagged)`);
          return { name: swName, column: t.column, vlans: v.value };
        });
        statements.push({ kind: 'host', system: system!, systemColumn: sysTok.column, ...(display ? { display } : {}), name: hostName, switches, line });
        return;
      }
      case 'TAP': {
        // An extension: a tap interface of the host plugged into a switch (the VDE tutorial's vde_plug2tap).
        const [tapTok, swTok, addrTok] = args;
        if (!tapTok || !TAP_NAME.test(tapTok.text)) return fail(tapTok ?? head, 'TAP needs an interface name (letters, digits, . _ -, at most 15 characters): TAP name switch [address/prefix]');
        const sw = name(swTok, 'a switch name after the tap name');
        if (addrTok && !CIDR.test(addrTok.text)) return fail(addrTok, `"${addrTok.text}" is not an address with its prefix, like 10.0.0.254/24`);
        statements.push({ kind: 'tap', name: tapTok.text, switch: sw, column: swTok!.column, ...(addrTok ? { address: addrTok.text } : {}), line });
        noMore(3);
        return;
      }
      case 'LINK': {
        // An extension: faults on a host's NIC, made by a vde-wirefilter between the NIC and its switch.
        const ref = args[0];
        const nicRef = ref && splitNicRef(ref.text);
        if (!ref || !nicRef) return fail(ref ?? head, 'LINK needs a NIC and its faults: LINK host:ethN delay=40ms loss=10% ...');
        checkName(nicRef.host, 'a host name', (msg) => fail(ref, msg));
        let faults: LinkFaults = {};
        for (const t of args.slice(1)) {
          const eq = t.text.indexOf('=');
          const r = parseLinkSetting(eq < 0 ? t.text : t.text.slice(0, eq), eq < 0 ? '' : t.text.slice(eq + 1), faults);
          if (!r.ok) return fail(t, r.problem);
          faults = r.faults;
        }
        statements.push({ kind: 'link', host: nicRef.host, nic: nicRef.nic, faults, column: ref.column, line });
        return;
      }
      default:
        fail(head, `unknown keyword "${head.text}"; allowed: ${KEYWORDS.join(', ')}, and # comments`);
    }
  });
  return { file, statements };
}

/** Names end up in file names and command lines: no '/', '..', spaces or shell characters. */
export function checkName(text: string, what: string, fail: (msg: string) => never): void {
  const problem = nameProblem(text, what);
  if (problem) fail(problem);
}
