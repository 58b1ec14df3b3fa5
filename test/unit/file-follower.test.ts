import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileFollower } from '../../src/process/file-follower.js';
import { tempDir } from '../helpers/tiny.js';

describe('FileFollower', () => {
  it('hands over each appended byte once, reading only what is new', async () => {
    await using tmp = await tempDir('follow');
    const file = join(tmp.path, 'capture.pcap');
    await writeFile(file, '');
    const follower = await FileFollower.open(file);
    const delivered: Buffer[] = [];
    const polls: number[] = [];
    const poll = async () => polls.push(await follower.poll((chunk) => delivered.push(Buffer.from(chunk))));
    try {
      await poll();
      // Small appends, nothing new, and one larger than a read (64 KiB).
      for (const size of [24, 16, 0, 1500, 200 * 1024, 60]) {
        if (size) await appendFile(file, randomBytes(size));
        await poll();
      }
      await poll();
      assert.deepEqual(polls, [0, 24, 16, 0, 1500, 200 * 1024, 60, 0]);
      assert.deepEqual(Buffer.concat(delivered), await readFile(file));
      assert.equal(follower.bytesRead, (await stat(file)).size, 'every byte of the file was read once');
    } finally {
      await follower.close();
    }
  });
});
