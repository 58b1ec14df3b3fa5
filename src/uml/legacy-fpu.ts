/**
 * UML on CPUs with AMX (Intel Sapphire Rapids and later). Pure.
 *
 * Debian 12's UML kernel (6.1) saves a guest process's FPU state with ptrace(PTRACE_GETREGSET,
 * NT_X86_XSTATE) into a 4 KiB buffer. With AMX the host's XSAVE area is about 11 KiB; the host
 * kernel then refuses the buffer on PTRACE_SETREGSET (EFAULT, "userspace - ptrace set fp regs
 * failed, errno = 14") and init dies at once. Checked here: on such a CPU every UML host crashed.
 *
 * The way round, found by hand on that machine: a seccomp filter (bubblewrap's --seccomp) makes that
 * one ptrace request fail, so UML falls back to the legacy FXSAVE state (x87 and SSE registers),
 * which it saves whole; and the guest's glibc is told not to use AVX (`GLIBC_TUNABLES`, which the
 * kernel passes to init's environment), whose upper register halves that state does not hold. With
 * both, tiny boots and runs; without the second, busybox's init segfaulted in a string function.
 * A program in the guest that uses AVX of its own accord may still compute garbage there.
 */

/** Whether this CPU's XSAVE state holds AMX tiles (`amx_tile` among /proc/cpuinfo's flags). */
export function hostHasAmx(cpuinfo: string): boolean {
  return /^flags\s*:.*\bamx_tile\b/m.test(cpuinfo);
}

/** The word added to the UML kernel's command line (unknown `NAME=VALUE` words become init's environment). */
export const NO_AVX_GLIBC = 'GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX2,-AVX,-ERMS,-FSRM';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const NR_PTRACE = 101;
const PTRACE_GETREGSET = 0x4204;
const PTRACE_SETREGSET = 0x4205;
const NT_X86_XSTATE = 0x202;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO_EIO = 0x00050000 | 5;
// Classic BPF opcodes: load a 32-bit word of struct seccomp_data, jump if equal, return.
const LD_ABS_W = 0x20;
const JEQ_K = 0x15;
const RET_K = 0x06;
// Offsets in struct seccomp_data: nr, arch, instruction pointer, then args[6] of 8 bytes (low word first).
const NR = 0;
const ARCH = 4;
const ARG0 = 16;
const ARG2 = 32;

/**
 * The compiled seccomp program (struct sock_filter[], as bubblewrap's --seccomp reads it): ptrace
 * PTRACE_GETREGSET or PTRACE_SETREGSET on NT_X86_XSTATE fails with EIO; everything else is allowed.
 * Jumps count the instructions they skip.
 */
export function xstateRegsetFilter(): Buffer {
  const program: Array<[number, number, number, number]> = [
    [LD_ABS_W, 0, 0, ARCH],
    [JEQ_K, 0, 7, AUDIT_ARCH_X86_64], // not x86_64: allow
    [LD_ABS_W, 0, 0, NR],
    [JEQ_K, 0, 5, NR_PTRACE], // not ptrace: allow
    [LD_ABS_W, 0, 0, ARG0],
    [JEQ_K, 1, 0, PTRACE_GETREGSET],
    [JEQ_K, 0, 2, PTRACE_SETREGSET], // another request: allow
    [LD_ABS_W, 0, 0, ARG2],
    [JEQ_K, 1, 0, NT_X86_XSTATE],
    [RET_K, 0, 0, SECCOMP_RET_ALLOW],
    [RET_K, 0, 0, SECCOMP_RET_ERRNO_EIO],
  ];
  const out = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

/** bubblewrap reads the filter from this descriptor of its own (launch.ts gives it a pipe there). */
export const SECCOMP_FD = 4;
