/**
 * One-line summaries of the frames of a pcap stream, as tcpdump prints them, for the page's live
 * packet list. Pure and free of Node and DOM imports: the page parses the stream the server relays.
 * Hand-written: the npm pcap parsers need Node's Buffer or native code, and the page needs only
 * Ethernet, 802.1Q, ARP, IPv4 (ICMP, UDP, TCP) and a word for anything else.
 */

export interface PacketSummary {
  /** 1 for the stream's first frame. */
  n: number;
  /** Seconds since the stream's first frame. */
  time: number;
  /** The frame's length on the wire. */
  length: number;
  text: string;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** A record claiming more than this is not pcap (QEMU's snaplen is 65535; jumbo frames stay below). */
const MAX_RECORD = 262144;

/**
 * Reads a pcap byte stream in whatever pieces it arrives: each `push` returns the frames it
 * completed. Throws on bytes that are not pcap (bad magic, an absurd record length).
 */
export class PcapReader {
  private buffered: Uint8Array = new Uint8Array(0);
  private littleEndian?: boolean;
  private nanoseconds = false;
  private count = 0;
  private first?: number;

  push(bytes: Uint8Array): PacketSummary[] {
    this.buffered = concat(this.buffered, bytes);
    const out: PacketSummary[] = [];
    let at = 0;
    const view = new DataView(this.buffered.buffer, this.buffered.byteOffset, this.buffered.byteLength);
    if (this.littleEndian === undefined) {
      if (this.buffered.length < GLOBAL_HEADER) return out;
      this.readMagic(view.getUint32(0, false));
      at = GLOBAL_HEADER;
    }
    const le = this.littleEndian;
    while (this.buffered.length - at >= RECORD_HEADER) {
      const sec = view.getUint32(at, le);
      const frac = view.getUint32(at + 4, le);
      const captured = view.getUint32(at + 8, le);
      const length = view.getUint32(at + 12, le);
      if (captured > MAX_RECORD) throw new Error(`not a pcap stream: a record of ${captured} bytes`);
      if (this.buffered.length - at - RECORD_HEADER < captured) break;
      const frame = this.buffered.subarray(at + RECORD_HEADER, at + RECORD_HEADER + captured);
      const t = sec + frac / (this.nanoseconds ? 1e9 : 1e6);
      this.first ??= t;
      out.push({ n: ++this.count, time: t - this.first, length, text: summarizeFrame(frame) });
      at += RECORD_HEADER + captured;
    }
    this.buffered = this.buffered.slice(at);
    return out;
  }

  private readMagic(magic: number): void {
    const known: Record<number, [boolean, boolean]> = { 0xa1b2c3d4: [false, false], 0xd4c3b2a1: [true, false], 0xa1b23c4d: [false, true], 0x4d3cb2a1: [true, true] };
    const k = known[magic];
    if (!k) throw new Error(`not a pcap stream (magic 0x${magic.toString(16).padStart(8, '0')})`);
    [this.littleEndian, this.nanoseconds] = k;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!a.length) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** An Ethernet frame in one line: "10.0.0.1 > 10.0.0.2: ICMP echo request, id 5, seq 1, length 64". */
export function summarizeFrame(f: Uint8Array): string {
  if (f.length < 14) return `truncated Ethernet frame (${f.length} bytes)`;
  const d = new DataView(f.buffer, f.byteOffset, f.byteLength);
  let type = d.getUint16(12);
  let at = 14;
  let prefix = '';
  if (type === 0x8100 && f.length >= 18) {
    prefix = `VLAN ${d.getUint16(14) & 0xfff}, `;
    type = d.getUint16(16);
    at = 18;
  }
  const body = f.subarray(at);
  switch (type) {
    case 0x0806:
      return prefix + arp(body);
    case 0x0800:
      return prefix + ipv4(body);
    case 0x86dd:
      return `${prefix}IPv6 ${body.length >= 40 ? `${ipv6(body.subarray(8, 24))} > ${ipv6(body.subarray(24, 40))}, next header ${body[6]}` : '(truncated)'}, length ${body.length}`;
    default:
      return `${prefix}${mac(f.subarray(6, 12))} > ${mac(f.subarray(0, 6))}, ethertype 0x${type.toString(16).padStart(4, '0')}, length ${f.length}`;
  }
}

function arp(b: Uint8Array): string {
  if (b.length < 28) return 'ARP (truncated)';
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const op = d.getUint16(6);
  const [sha, spa, tpa] = [mac(b.subarray(8, 14)), ip(b.subarray(14, 18)), ip(b.subarray(24, 28))];
  if (op === 1) return `ARP, Request who-has ${tpa} tell ${spa}`;
  if (op === 2) return `ARP, Reply ${spa} is-at ${sha}`;
  return `ARP, operation ${op}`;
}

function ipv4(b: Uint8Array): string {
  if (b.length < 20 || b[0]! >> 4 !== 4) return 'IPv4 (truncated or malformed)';
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ihl = (b[0]! & 0xf) * 4;
  const total = d.getUint16(2);
  const proto = b[9]!;
  const src = ip(b.subarray(12, 16));
  const dst = ip(b.subarray(16, 20));
  const fragment = d.getUint16(6) & 0x1fff;
  const payload = b.subarray(ihl, Math.max(ihl, Math.min(total, b.length)));
  if (fragment) return `IP ${src} > ${dst}: fragment at ${fragment * 8}, protocol ${proto}, length ${payload.length}`;
  switch (proto) {
    case 1:
      return `IP ${src} > ${dst}: ${icmp(payload)}`;
    case 6:
      return tcp(src, dst, payload);
    case 17: {
      if (payload.length < 8) return `IP ${src} > ${dst}: UDP (truncated)`;
      const u = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      return `IP ${src}.${u.getUint16(0)} > ${dst}.${u.getUint16(2)}: UDP, length ${u.getUint16(4) - 8}`;
    }
    default:
      return `IP ${src} > ${dst}: protocol ${proto}, length ${payload.length}`;
  }
}

const ICMP_TYPES: Readonly<Record<number, string>> = { 0: 'echo reply', 3: 'destination unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded' };

function icmp(p: Uint8Array): string {
  if (p.length < 4) return 'ICMP (truncated)';
  const d = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const type = p[0]!;
  const name = ICMP_TYPES[type] ?? `type ${type}`;
  if ((type === 0 || type === 8) && p.length >= 8) return `ICMP ${name}, id ${d.getUint16(4)}, seq ${d.getUint16(6)}, length ${p.length}`;
  return `ICMP ${name}${type === 3 || type === 11 ? `, code ${p[1]}` : ''}, length ${p.length}`;
}

function tcp(src: string, dst: string, p: Uint8Array): string {
  if (p.length < 20) return `IP ${src} > ${dst}: TCP (truncated)`;
  const d = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const flagBits = p[13]!;
  // tcpdump's letters: S(YN) F(IN) P(USH) R(ST) U(RG), and '.' for ACK.
  const flags = [[0x02, 'S'], [0x01, 'F'], [0x08, 'P'], [0x04, 'R'], [0x20, 'U'], [0x10, '.']]
    .filter(([bit]) => flagBits & (bit as number))
    .map(([, c]) => c)
    .join('');
  const data = p.length - (p[12]! >> 4) * 4;
  const ack = flagBits & 0x10 ? `, ack ${d.getUint32(8)}` : '';
  return `IP ${src}.${d.getUint16(0)} > ${dst}.${d.getUint16(2)}: Flags [${flags || 'none'}], seq ${d.getUint32(4)}${ack}, win ${d.getUint16(14)}, length ${Math.max(0, data)}`;
}

function ip(b: Uint8Array): string {
  return Array.from(b).join('.');
}

function ipv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // The longest run of zero groups becomes "::", as RFC 5952 writes addresses.
  const text = groups.join(':');
  const runs = text.match(/(^|:)0(:0)+(:|$)/g);
  if (!runs) return text;
  const longest = runs.reduce((a, r) => (r.length > a.length ? r : a));
  return text.replace(longest, '::');
}

function mac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
