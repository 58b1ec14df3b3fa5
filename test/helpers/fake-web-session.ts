import type { Duplex } from 'node:stream';
import { QemunetError } from '../../src/errors.js';
import type { ActionRequest, SessionView } from '../../src/web/protocol.js';
import type { ConsoleStream, WebSession } from '../../src/web/server/session-source.js';
import type { GraphLayout } from '../../src/session/layout.js';

/**
 * A session with no VMs behind it, for tests of the web server's doors: every host is unknown, every
 * action is accepted and changes nothing. Tests extend it and override what they exercise, so a new
 * WebSession method is added here once.
 */
export class FakeWebSession implements WebSession {
  readonly dir: string = '/nowhere';
  sample: SessionView = { dir: '/nowhere', topology: 't.topo', phase: 'running', hosts: [], switches: [{ name: 's1', hub: false, state: 'running' }], trunks: [], taps: [] };
  view(): Promise<SessionView> {
    return Promise.resolve(this.sample);
  }
  subscribe(onView: (v: SessionView) => void): () => void {
    onView(this.sample);
    return () => {};
  }
  openConsole(_host: string): Promise<ConsoleStream> {
    return Promise.reject(new QemunetError('UNKNOWN_HOST', 'no such host'));
  }
  openScreen(_host: string): Promise<Duplex> {
    return Promise.reject(new QemunetError('UNKNOWN_HOST', 'no such host'));
  }
  act(_request: ActionRequest): Promise<unknown> {
    return Promise.resolve(undefined);
  }
  capture(_nic: string, _seconds: number, _signal: AbortSignal): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(0));
  }
  layout(): Promise<GraphLayout | undefined> {
    return Promise.resolve(undefined);
  }
  saveLayout(_layout: unknown): Promise<void> {
    return Promise.resolve();
  }
  resizeConsole(_host: string, _cols: number, _rows: number): void {}
  close(): void {}
}
