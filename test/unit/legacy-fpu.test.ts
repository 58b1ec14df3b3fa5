import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostHasAmx, NO_AVX_GLIBC, SECCOMP_FD, xstateRegsetFilter } from '../../src/uml/legacy-fpu.js';
import { umlJailArgv, type UmlSpec } from '../../src/uml/uml-argv.js';

const SPEC: UmlSpec = { name: 'u1', kernel: '/usr/bin/linux.uml', memoryMiB: 128, base: '/img/tiny.img', dir: '/s/u1.uml', cow: '/s/u1.uml/disk.cow', runDir: '/s/u1.uml/run', nics: [], socketDirs: [], agentSocket: '/s/u1.qga', append: ['hostname=u1'] };

describe('UML on a CPU with AMX (legacy FPU state)', () => {
  it('tells AMX from /proc/cpuinfo flags', () => {
    assert.equal(hostHasAmx('processor\t: 0\nflags\t\t: fpu vme avx512f amx_bf16 amx_tile amx_int8\n'), true);
    assert.equal(hostHasAmx('processor\t: 0\nflags\t\t: fpu vme avx2 avx512f\n'), false);
    assert.equal(hostHasAmx('bugs\t\t: amx_tile\n'), false, 'only the flags line counts');
    assert.equal(hostHasAmx(''), false);
  });

  it('compiles the seccomp program: ptrace GETREGSET/SETREGSET of NT_X86_XSTATE fails with EIO, all else is allowed', () => {
    const words = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
    assert.deepEqual(
      xstateRegsetFilter(),
      words(`
        2000 00 00 04000000   1500 00 07 3e0000c0
        2000 00 00 00000000   1500 00 05 65000000
        2000 00 00 10000000   1500 01 00 04420000   1500 00 02 05420000
        2000 00 00 20000000   1500 01 00 02020000
        0600 00 00 0000ff7f   0600 00 00 05000500`),
    );
  });

  it('puts bubblewrap\'s --seccomp and the glibc tunables on the command lines only when asked', () => {
    const plain = umlJailArgv(SPEC);
    assert.equal(plain.includes('--seccomp'), false);
    assert.equal(plain.includes(NO_AVX_GLIBC), false);
    const legacy = umlJailArgv({ ...SPEC, legacyFpu: true });
    assert.deepEqual(legacy.slice(legacy.indexOf('--seccomp'), legacy.indexOf('--seccomp') + 3), ['--seccomp', String(SECCOMP_FD), '--']);
    assert.equal(legacy.at(-1), NO_AVX_GLIBC);
  });
});
