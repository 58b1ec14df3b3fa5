import type { ErrorCode } from './protocol/error-codes.js';

// What follows from a code (exit status, HTTP status) is in the one table, with the codes.
export { httpStatus, isInputError, upgradeRefusalStatus, type ErrorCode } from './protocol/error-codes.js';

/**
 * Every error a user can cause carries a stable code and a message meant for them.
 * The CLI prints `message` for these; anything else is a bug and gets a full report.
 */
export class QemunetError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A problem in an input file, pointing at the place. */
export class InputError extends QemunetError {
  constructor(
    code: ErrorCode,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(code, `${file}:${line}:${column}: ${detail}`);
  }
}

/** A program could not be started or exited badly; carries its last output. */
export class ProcessError extends QemunetError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export class ImageError extends QemunetError {}
export class VmError extends QemunetError {}
export class SessionError extends QemunetError {}
export class UsageError extends QemunetError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** An environment variable qemunet reads has a value it cannot use; the message names it and what is allowed. */
export class EnvironmentError extends QemunetError {
  constructor(
    readonly variable: string,
    readonly value: string,
    allowed: string,
  ) {
    super('ENV_INVALID', `${variable}="${value}" is not allowed; allowed: ${allowed}`);
  }
}

/** The user interrupted (Ctrl-C, SIGTERM): exit status 130, as shells report SIGINT. */
export class InterruptedError extends QemunetError {
  constructor(message: string) {
    super('INTERRUPTED', message);
  }
}

export function isQemunetError(e: unknown): e is QemunetError {
  return e instanceof QemunetError;
}
