const LF = 0x0a;
const CR = 0x0d;

/**
 * A UML kernel writes its boot messages to the console channel (the process's stdout) with bare LFs:
 * no tty adds the CR a terminal needs, so each line starts where the previous one ended (a stair
 * step in `qemunet console`, tmux and the web page). Once the guest's userspace writes through its
 * console tty (ONLCR), lines end in CRLF and bytes must pass untouched: a full-screen program in raw
 * mode uses a bare LF to move down. So: a lone LF becomes CRLF until the first CRLF of the stream.
 * One per VM start.
 */
export class KernelNewlines {
  private userspace = false;
  private lastWasCr = false;

  feed(data: Buffer): Buffer {
    if (this.userspace || !data.length) return data;
    const out: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const byte = data[i]!;
      if (this.userspace) return Buffer.concat([Buffer.from(out), data.subarray(i)]);
      if (byte === LF) {
        if (this.lastWasCr) this.userspace = true;
        else out.push(CR);
      }
      out.push(byte);
      this.lastWasCr = byte === CR;
    }
    return Buffer.from(out);
  }
}
