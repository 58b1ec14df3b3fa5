import { exitStatus, isErrorCode } from '../protocol/error-codes.js';

/** The exit status of a command that failed, from its error's code (the table in protocol/error-codes.ts). */
export { exitStatus };

/** Whether an error that is not a QemunetError still has a message meant for the user (a bad option). */
export function isKnownCode(code: unknown): boolean {
  return isErrorCode(code);
}
