import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFollower } from '../../process/file-follower.js';
import { startCapture } from './sessions.js';

/** How often the pcap file QEMU appends to is read. */
const POLL_MS = 200;
let streams = 0;

export interface CaptureStream {
  /** Resolves when the session ended the capture (it stopped); `stop()` still hands over the last bytes. */
  ended: Promise<void>;
  /** Stops the capture, hands over its last bytes and removes its file; resolves once all is done. */
  stop(): Promise<void>;
}

/**
 * A NIC's frames as a pcap byte stream (`qemunet capture -w -`, the web's live capture). QEMU's
 * filter-dump can only write a file: it writes one in the session directory, which is followed and
 * removed at the end. A file, not a FIFO: a reader that falls behind must never block QEMU's
 * main loop (the guest would stall). Throws, writing nothing, when the capture cannot start.
 */
export async function openCaptureStream(dir: string, ref: string, onChunk: (chunk: Buffer) => void): Promise<CaptureStream> {
  const file = join(dir, `.capture-${process.pid}-${++streams}.pcap`);
  await writeFile(file, '', { mode: 0o600 });
  let capture: { stop(): Promise<void>; closed: Promise<void> };
  let follower: FileFollower;
  try {
    capture = await startCapture(dir, ref, file);
    follower = await FileFollower.open(file);
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  let polling = Promise.resolve();
  const poll = () => (polling = polling.then(() => follower.poll(onChunk).then(() => {})).catch(() => {}));
  const timer = setInterval(() => void poll(), POLL_MS);
  let stopping: Promise<void> | undefined;
  return {
    ended: capture.closed,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await capture.stop();
        await poll();
        await follower.close().catch(() => {});
        await rm(file, { force: true });
      })()),
  };
}
