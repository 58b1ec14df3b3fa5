import { spawn, type SpawnOptions } from 'node:child_process';
import { ProcessError, QemunetError } from '../errors.js';
import { missingProgramMessage } from './programs.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Where stdout goes: captured (default) or straight to a file descriptor. */
  stdout?: 'capture' | number;
  /** Called with each chunk of stderr as it arrives (progress output). */
  onStderr?: (chunk: string) => void;
}

export interface RunResult {
  stdout: string;
  /** The same output as bytes, for programs whose output is binary. */
  stdoutBytes: Buffer;
  stderr: string;
}

const TAIL_CHARS = 4000;

/**
 * Runs a program to completion. Rejects with a ProcessError carrying the exit code and the end of
 * its output when it fails, or a QemunetError naming the Debian package when it is not installed.
 * Aborting the signal kills the child's whole process group.
 */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    options.signal?.throwIfAborted();
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', options.stdout === undefined || options.stdout === 'capture' ? 'pipe' : options.stdout, 'pipe'],
      detached: true,
    };
    const child = spawn(program, args, spawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => {
      err.push(d);
      options.onStderr?.(d.toString());
    });
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (e: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (e.code === 'ENOENT') reject(new QemunetError('PROGRAM_MISSING', missingProgramMessage(program), { cause: e }));
      else reject(new ProcessError('PROCESS_FAILED', `${program} could not be started: ${e.message}`, [program, ...args], null, '', { cause: e }));
    });
    child.on('close', (code, sig) => {
      options.signal?.removeEventListener('abort', onAbort);
      const stdoutBytes = Buffer.concat(out);
      const stdout = stdoutBytes.toString();
      const stderr = Buffer.concat(err).toString();
      if (options.signal?.aborted) return reject(options.signal.reason);
      if (code === 0) return resolve({ stdout, stdoutBytes, stderr });
      const tail = (stderr || stdout).slice(-TAIL_CHARS).trim();
      const how = code === null ? `was killed by ${sig}` : `exited with status ${code}`;
      reject(new ProcessError('PROCESS_FAILED', `${program} ${how}${tail ? `:\n${tail}` : ''}`, [program, ...args], code, tail));
    });
  });
}

/** The full path of a program on PATH (no shell involved), or undefined. */
export async function findProgram(program: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  if (program.includes('/')) return access(program, constants.X_OK).then(() => program, () => undefined);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, program);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}

/** True when a program exists on PATH (no shell involved). */
export async function hasProgram(program: string): Promise<boolean> {
  return (await findProgram(program)) !== undefined;
}
