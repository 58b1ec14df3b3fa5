import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findProgram } from '../../src/process/run.js';
import { sessionPaths } from '../../src/session/paths.js';
import { eventually, leftovers, qemunet, stateOf } from '../helpers/cli.js';
import { suiteDir, tinyImage } from '../helpers/tiny.js';

/** tiny's kernel arguments for a guest that prints nothing and is never ready: busybox cat as init, reading the console. */
const SILENT_INIT = 'rdinit=/bin/busybox cat';

/**
 * A QEMU that hangs its guests silently under KVM, as a nested, paravirtualised KVM does to a 64-bit
 * Linux: asked for accel=kvm, it runs the guest under TCG with an init that never prints or answers.
 * Anything else goes to the real QEMU unchanged. (Such a KVM cannot be had on demand.)
 */
async function kvmThatHangs(dir: string): Promise<string> {
  const real = await findProgram('qemu-system-x86_64');
  assert.ok(real, 'qemu-system-x86_64 is installed');
  await writeFile(
    join(dir, 'qemu-system-x86_64'),
    `#!/bin/bash
case " $* " in *accel=kvm*) ;; *) exec ${real} "$@" ;; esac
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    pc,accel=kvm) args+=(pc,accel=tcg) ;;
    -cpu) if [ "$2" = host ]; then shift; else args+=("$1"); fi ;;
    -append) args+=(-append "$2 ${SILENT_INIT}"); shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
exec ${real} "\${args[@]}"
`,
  );
  await chmod(join(dir, 'qemu-system-x86_64'), 0o755);
  return dir;
}

describe('boot watchdog', { timeout: 300000 }, () => {
  test('a guest silent under TCG is stalled, and --wait fails naming it', async () => {
    await tinyImage();
    const tmp = suiteDir('stall');
    try {
      const topo = join(tmp.path, 'one.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny quiet s1\n');
      const dir = join(tmp.path, 's');
      const r = await qemunet(['up', topo, '--session', dir, '-K', '--wait', '--boot-silence', '10', '-z', SILENT_INIT], { cwd: tmp.path });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^qemunet: quiet: stalled \(quiet: printed nothing on its console for 10 s\)$/m);
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });

  test('a guest that is not ready in time is stalled, with the end of its console in status, and may still come through', async () => {
    await tinyImage();
    const tmp = suiteDir('stall-status');
    try {
      const topo = join(tmp.path, 'one.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny slow s1\n');
      const dir = join(tmp.path, 's');
      // tiny is ready once its start scripts are done or have run for their grace time: a grace of 30 s
      // lets this one hold it back. It says so every second, so its words stay in the console's last lines
      // whatever else the guest prints meanwhile (a loaded machine boots in another order).
      await mkdir(join(dir, 'slow'), { recursive: true });
      await writeFile(join(dir, 'slow', 'start.sh'), '#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo holding back readiness; sleep 1; done\n');
      const started = await qemunet(['up', topo, '--session', dir, '-K', '--detach', '--boot-limit', '5', '-z', 'qemunet.start_grace=30'], { cwd: tmp.path });
      assert.equal(started.code, 0, started.stderr);
      try {
        await eventually(async () => ((await stateOf(dir))?.hosts[0]?.state === 'stalled' ? true : undefined), 60000, 'the host to be stalled');
        // The console's end follows what the stalled guest prints: its start script's words come in.
        const status = await eventually(async () => {
          const r = await qemunet(['status', '--session', dir]);
          return /holding back readiness/.test(r.stdout) ? r.stdout : undefined;
        }, 60000, "the start script's output in status");
        assert.match(status, /^slow\s+stalled\s+tiny/m);
        assert.match(status, /^slow stalled: not ready after 5 s$/m);
        assert.match(status, /^ {2}\| holding back readiness/m);
        const ready = await eventually(async () => {
          const h = (await stateOf(dir))?.hosts[0];
          return h?.state === 'ready' ? h : undefined;
        }, 60000, 'the host to be ready after all');
        assert.equal(ready.detail, undefined);
        assert.equal(ready.consoleTail, undefined);
        // tiny says it boots before anything else, so even a guest stalled early has a line in status.
        const log = await readFile(sessionPaths(dir).host('slow').log, 'utf8');
        const booting = log.indexOf('qemunet: tiny is booting');
        assert.ok(booting >= 0 && booting < log.indexOf('holding back readiness'), log);
      } finally {
        await qemunet(['down', '--session', dir]);
      }
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });

  test('a guest silent under KVM is started again under TCG, once, and becomes ready', async () => {
    await tinyImage();
    const tmp = suiteDir('kvm-hangs');
    try {
      const topo = join(tmp.path, 'one.topo');
      await writeFile(topo, 'SWITCH s1\nHOST tiny a s1\n');
      const dir = join(tmp.path, 's');
      const bin = await kvmThatHangs(tmp.path);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, QEMUNET_ACCEL: 'kvm' };
      const r = await qemunet(['up', topo, '--session', dir, '--wait', '--boot-silence', '10'], { cwd: tmp.path, env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\(running, KVM\)/);
      assert.match(r.stdout, /^a\s+ready [\d.]+s\s+tiny \(TCG\)\s+eth0=s1:1/m);
      const log = await readFile(sessionPaths(dir).log, 'utf8');
      assert.match(log, /warning: a printed nothing for 10 s under KVM; starting it again under TCG \(-K starts every host under TCG\)/);
      const state = await stateOf(dir);
      assert.equal(state?.hosts[0]?.accel, 'tcg');
      const hostname = await qemunet(['exec', 'a', '--session', dir, '--', 'hostname'], { env });
      assert.equal(hostname.stdout.trim(), 'a');
      const down = await qemunet(['down', '--session', dir], { env });
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await leftovers(dir), []);
    } finally {
      await tmp.remove();
    }
  });
});
