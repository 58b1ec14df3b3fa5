import { QemunetError } from '../errors.js';
import { GuestAgent } from './guest-agent.js';
import { execStreaming } from './guest-exec-stream.js';

export interface GuestRunIo {
  onStdout(d: Buffer): void;
  onStderr(d: Buffer): void;
  /** Default one hour. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 3600000;

/**
 * Runs a program in a guest through its agent socket, output handed over as it comes; resolves with
 * its exit status. One mechanism for `qemunet exec` (a client) and the lab checks the session runs.
 * Throws AGENT_UNAVAILABLE when the agent does not answer, EXEC_TIMEOUT past the time limit.
 */
export async function runInGuest(agentSocket: string, host: string, argv: readonly string[], io: GuestRunIo): Promise<number> {
  const [path, ...args] = argv;
  if (!path) throw new QemunetError('USAGE', 'give the command to run: qemunet exec HOST -- COMMAND [ARGS...]');
  const timeoutMs = io.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = io.signal ? AbortSignal.any([timeout, io.signal]) : timeout;
  const agent = await GuestAgent.connect(agentSocket, signal).catch((e: Error) => {
    throw new QemunetError('AGENT_UNAVAILABLE', signal.aborted ? `the guest agent of ${host} did not answer in time (still booting?)` : `cannot reach the guest agent of ${host}: ${e.message}`);
  });
  try {
    return await execStreaming(agent, path, args, { onStdout: io.onStdout, onStderr: io.onStderr, signal });
  } catch (e) {
    if (timeout.aborted) throw new QemunetError('EXEC_TIMEOUT', `${argv.join(' ')} on ${host} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    throw e;
  } finally {
    agent.close();
  }
}
