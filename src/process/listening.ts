import { connect } from 'node:net';

/** Whether a unix socket takes a connection now (a stale file, or a bound socket not yet listening, refuses). */
export function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
