/**
 * The exit status of a command that failed, from its error's code. The code, not the class: a
 * QemunetError('USAGE') is no UsageError, and an error that crossed the control socket arrives as a
 * plain QemunetError whatever it was in the session's process.
 */
const EXIT_STATUS = new Map<string, number>([
  // A command line qemunet cannot use, as for most Unix tools.
  ['USAGE', 2],
  // node:util parseArgs, which the session commands use.
  ['ERR_PARSE_ARGS_UNKNOWN_OPTION', 2],
  ['ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 2],
  ['ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', 2],
  // Ctrl-C or SIGTERM, as shells report SIGINT.
  ['INTERRUPTED', 130],
]);

/** Whether an error that is not a QemunetError still has a message meant for the user (a bad option). */
export function isKnownCode(code: unknown): boolean {
  return typeof code === 'string' && EXIT_STATUS.has(code);
}

export function exitStatus(code: string): number {
  return EXIT_STATUS.get(code) ?? 1;
}
