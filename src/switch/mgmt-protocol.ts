/**
 * vde_switch's management console protocol: after each command the switch may send a data block
 * ("0000 DATA END WITH '.'", lines, "."), then a status line "NNNN message" (1000 = success,
 * 1000 + errno otherwise), then its prompt "vde$ ".
 */
export interface MgmtReply {
  code: number;
  message: string;
  /** The data block's lines, if any. */
  data: string[];
}

export const MGMT_PROMPT = 'vde$ ';
/** vde-wirefilter speaks the same protocol with its own prompt. */
export const WIREFILTER_PROMPT = 'VDEwf$ ';
export const MGMT_SUCCESS = 1000;

/** Parses one reply out of `buffer` (text received after sending a command); undefined until complete. */
export function parseMgmtReply(buffer: string, prompt = MGMT_PROMPT): { reply: MgmtReply; rest: string } | undefined {
  const end = buffer.indexOf(`\n${prompt}`);
  if (end < 0) return undefined;
  const lines = buffer.slice(0, end).split('\n');
  const data: string[] = [];
  let status: string | undefined;
  let inData = false;
  for (const line of lines) {
    if (inData) {
      if (line === '.') inData = false;
      else data.push(line);
    } else if (line.startsWith('0000 DATA')) inData = true;
    else if (/^\d{4} /.test(line)) status = line;
  }
  if (!status) return undefined;
  return { reply: { code: Number(status.slice(0, 4)), message: status.slice(5), data }, rest: buffer.slice(end + 1 + prompt.length) };
}

/** The commands of a QemuNet `.cmd` file, with their line numbers; comments and blank lines left out. */
export function parseCmdFile(text: string): Array<{ line: number; command: string }> {
  return text
    .split('\n')
    .map((raw, i) => ({ line: i + 1, command: raw.replace(/#.*/, '').trim() }))
    .filter((c) => c.command !== '');
}
