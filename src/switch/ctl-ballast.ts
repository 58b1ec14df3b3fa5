import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError } from '../errors.js';

/** Room for plugs beyond those planned (a host restarted while others start, a refused request). */
export const BALLAST_MARGIN = 8;
/** An idle switch accepts a connection in microseconds; a full backlog this long means it is stuck. */
const CONNECT_RETRY_MS = 5000;

/**
 * Idle connections to a vde_switch's control socket that keep its plugs on their own ports.
 *
 * Why: vde_switch 2.3.2 (Debian 12's) keeps, for each descriptor, its index in the poll array
 * (fdperm). Creating a port's data socket moves the first control connection in that array to its
 * end without updating that index; when the moved connection is a plug whose request has not been
 * read yet (QEMU between its connect() and its write(), common when 16 QEMUs start on 2 CPUs), the
 * switch later stores that plug's port on the descriptor now at the old index: another port's data
 * socket. That port's frames are then taken as the first plug's: its MAC is learned on the wrong
 * port and its guest hears everything but is never answered (seen in the 16-host test: h6 got h1's
 * ARP, h1 never got the reply; `hash/print` had h16's MAC on h4's port).
 *
 * A waiting plug is harmed only once every control connection ahead of it has been moved, one per
 * port created meanwhile. These connections never send a request, so moving them is harmless, and
 * with more of them than plugs that can connect at once no waiting plug reaches the front. Serialising
 * the plugs instead would cost each VM's whole start-up to netdev time, one after the other.
 * They are opened before anything plugs in and closed with the switch.
 */
export class CtlBallast {
  private constructor(private readonly sockets: Socket[]) {}

  static async open(ctlSocket: string, count: number, switchName: string): Promise<CtlBallast> {
    const ballast = new CtlBallast([]);
    try {
      for (let i = 0; i < count; i++) ballast.sockets.push(await connectIdle(ctlSocket, switchName));
    } catch (e) {
      ballast.close();
      throw e;
    }
    return ballast;
  }

  get size(): number {
    return this.sockets.length;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.length = 0;
  }
}

/** One connection that sends nothing; retried while the switch's listen backlog (15) is full. */
async function connectIdle(path: string, switchName: string): Promise<Socket> {
  const deadline = Date.now() + CONNECT_RETRY_MS;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => {
          s.removeAllListeners('error');
          s.on('error', () => {});
          // The switch never writes to a connection that made no request; qemunet may exit with these open.
          s.unref();
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' || Date.now() > deadline) throw new QemunetError('SWITCH_FAILED', `switch ${switchName}: cannot connect to its control socket ${path}: ${code ?? (e as Error).message}`);
      await sleep(2);
    }
  }
}

/**
 * How many plugs may connect to a switch at once in a session: one per port in use (hosts' NICs,
 * trunk ends, taps; a LINK wire plugs in instead of its NIC), and the margin.
 */
export function ballastSize(portsInUse: number): number {
  return portsInUse + BALLAST_MARGIN;
}
