import { createHmac } from 'node:crypto';
import { QemunetError } from '../errors.js';
import { formatIpv4, maskOf } from './ipv4.js';
import { SAFE_VALUE } from './param-syntax.js';
import type { Generator, ParamDef, ParamValue, ParamValues } from './types.js';

/** token()'s characters: 32 of them, so one byte's low 5 bits pick one with no bias; no l, o, 0, 1 to misread. */
export const TOKEN_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/**
 * An endless stream of bytes owned by one student's one parameter: HMAC-SHA256 keyed with the lab
 * secret over (student, parameter, block number). The same three give the same bytes on every
 * machine; another student or another parameter gives unrelated ones, and without the secret
 * nobody can work out anyone's values from their name.
 */
class ParamBytes {
  private block = 0;
  private buf = Buffer.alloc(0);
  private at = 0;
  constructor(
    private readonly secret: string,
    private readonly student: string,
    private readonly name: string,
  ) {}

  next(): number {
    if (this.at === this.buf.length) {
      this.buf = createHmac('sha256', this.secret).update(`qemunet.param\0${this.student}\0${this.name}\0${this.block++}`).digest();
      this.at = 0;
    }
    return this.buf[this.at++]!;
  }

  /** A uniform whole number from 0 to size - 1 (size up to 2^32), by rejection so no value is likelier. */
  below(size: number): number {
    const limit = 2 ** 32 - (2 ** 32 % size);
    for (;;) {
      const n = ((this.next() << 24) >>> 0) + (this.next() << 16) + (this.next() << 8) + this.next();
      if (n < limit) return n % size;
    }
  }
}

function draw(g: Generator, bytes: ParamBytes): ParamValue {
  switch (g.kind) {
    case 'token':
      return { kind: 'text', value: Array.from({ length: g.length }, () => TOKEN_ALPHABET[bytes.next() & 31]).join('') };
    case 'int':
      return { kind: 'text', value: String(g.min + bytes.below(g.max - g.min + 1)) };
    case 'choice':
      return { kind: 'text', value: g.options[bytes.below(g.options.length)]! };
    case 'subnet':
      return { kind: 'subnet', network: g.base + bytes.below(2 ** (g.length - g.baseLength)) * 2 ** (32 - g.length), length: g.length };
  }
}

/** One student's values of the lab's parameters: the same every time for them, unrelated between students. */
export function deriveParams(params: readonly ParamDef[], secret: string, student: string): ParamValues {
  if (params.length && !student) throw new QemunetError('CHECKS_NO_STUDENT', `this lab has per-student parameters (${params.map((p) => p.name).join(', ')}): name the student (their user= value, or --student NAME)`);
  return new Map(params.map((p) => [p.name, draw(p.generator, new ParamBytes(secret, student, p.name))]));
}

/** The fields `{{name.field}}` may ask a parameter of this generator for, as said in error messages. */
export function fieldsAllowed(g: Generator): string {
  return g.kind === 'subnet' ? 'network, prefix, netmask, broadcast, or a host number like .1' : 'none (write {{name}})';
}

/** Whether `{{name.field}}` makes sense for this generator, whatever the value. */
export function fieldAllowed(g: Generator, field: string | undefined): boolean {
  if (field === undefined) return true;
  return g.kind === 'subnet' && (['network', 'prefix', 'netmask', 'broadcast'].includes(field) || /^[1-9]\d*$/.test(field));
}

/** The text of `{{name}}` or `{{name.field}}`; a problem for a host number outside the subnet. */
export function fieldValue(v: ParamValue, field: string | undefined): { ok: true; text: string } | { ok: false; problem: string } {
  if (v.kind === 'text') return field === undefined ? { ok: true, text: v.value } : { ok: false, problem: 'this parameter has no fields' };
  const size = 2 ** (32 - v.length);
  switch (field) {
    case undefined:
      return { ok: true, text: `${formatIpv4(v.network)}/${v.length}` };
    case 'network':
      return { ok: true, text: formatIpv4(v.network) };
    case 'prefix':
      return { ok: true, text: String(v.length) };
    case 'netmask':
      return { ok: true, text: formatIpv4(maskOf(v.length)) };
    case 'broadcast':
      return { ok: true, text: formatIpv4(v.network + size - 1) };
    default: {
      const n = Number(field);
      if (!(n >= 1 && n <= size - 2)) return { ok: false, problem: size > 2 ? `a /${v.length} has hosts 1 to ${size - 2}` : `a /${v.length} has no numbered hosts` };
      return { ok: true, text: formatIpv4(v.network + n) };
    }
  }
}

/**
 * The `params` file qemunet writes into each host's share (the session's HOST/ folder, which the
 * guest mounts on /mnt/host, where its start.sh runs): `name=value` lines a start script reads
 * with `. /mnt/host/params` (or `set -a; . /mnt/host/params; set +a` to export them). A subnet
 * also gives name_network, name_prefix, name_netmask and name_broadcast. Values are never quoted:
 * each is checked against SAFE_VALUE, so no shell reads more into one than its text.
 */
export function renderParamsFile(values: ParamValues): string {
  const lines = ['# qemunet: this student\'s lab parameters (the checks file\'s PARAM lines). In a start script: . /mnt/host/params'];
  const put = (name: string, text: string) => {
    if (!SAFE_VALUE.test(text)) throw new Error(`bug: parameter ${name}'s value ${JSON.stringify(text)} is not shell-safe`);
    lines.push(`${name}=${text}`);
  };
  for (const [name, v] of values) {
    put(name, (fieldValue(v, undefined) as { text: string }).text);
    if (v.kind === 'subnet') for (const f of ['network', 'prefix', 'netmask', 'broadcast']) put(`${name}_${f}`, (fieldValue(v, f) as { text: string }).text);
  }
  return `${lines.join('\n')}\n`;
}
