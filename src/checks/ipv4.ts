/** Dotted-quad IPv4 addresses as unsigned 32-bit numbers, for subnet parameters. */

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((n, b) => n * 256 + b, 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The netmask of a prefix length, as a number (0 to 32). */
export function maskOf(length: number): number {
  return length === 0 ? 0 : 2 ** 32 - 2 ** (32 - length);
}
