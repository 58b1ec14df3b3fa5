import type { Power } from '../actions-protocol.js';
import type { HostView } from '../protocol.js';
import { button, call, el, type Say } from './actions-client.js';

import { FINAL_HOST_STATES } from '../../protocol/states.js';

/** A host that is not running: it can be powered on, not off. */
const isOff = (state: HostView['state']) => FINAL_HOST_STATES.has(state) || state === 'pending';

/**
 * A host's actions in the selection panel: power off, power on, restart, and a command run in the
 * guest (through its agent) with its output, error output and exit status. One panel per host,
 * kept while the page lives, so a command's output stays when the view changes.
 */
export class HostPanel {
  readonly element: HTMLElement;
  private readonly powerOff: HTMLButtonElement;
  private readonly powerOn: HTMLButtonElement;
  private readonly restart: HTMLButtonElement;
  private readonly command = el('input', { id: 'exec-command' });
  private readonly output = el('pre', { id: 'exec-output', className: 'output' });
  private readonly run: HTMLButtonElement;

  constructor(
    private readonly host: string,
    private readonly say: Say,
  ) {
    this.powerOff = button('Power off', () => this.power('off', `${host} powered off`), 'act-power-off');
    this.powerOn = button('Power on', () => this.power('on', `${host} is starting`), 'act-power-on');
    this.restart = button('Restart', () => this.power('restart', `${host} restarted`), 'act-power-restart');
    this.command.placeholder = 'command, e.g. ip addr';
    this.command.addEventListener('keydown', (e) => e.key === 'Enter' && void this.exec());
    this.run = button('Run', () => this.exec(), 'exec-run');
    this.element = el('div', { className: 'host-panel' }, el('div', {}, this.powerOff, this.powerOn, this.restart), el('div', { className: 'exec' }, this.command, this.run), this.output);
  }

  update(h: HostView): void {
    const off = isOff(h.state);
    this.powerOff.disabled = off || h.state === 'stopping';
    this.powerOn.disabled = !off || h.state === 'pending';
    this.run.disabled = h.state !== 'ready';
    this.run.title = h.state === 'ready' ? '' : 'the host runs commands once it is ready (its guest agent answers)';
  }

  private async power(power: Power, done: string): Promise<void> {
    this.say(`${this.host}: power ${power}…`);
    try {
      await call('power', { host: this.host, power });
      this.say(done);
    } catch (e) {
      this.say((e as Error).message, true);
    }
  }

  private async exec(): Promise<void> {
    const command = this.command.value.trim();
    if (!command) return;
    this.output.textContent = `$ ${command}\n(running…)`;
    try {
      const r = await call('exec', { host: this.host, command });
      this.output.replaceChildren(
        el('span', { className: 'cmd', text: `$ ${command}\n` }),
        el('span', { className: 'stdout', text: r.stdout }),
        el('span', { className: 'stderr', text: r.stderr }),
        el('span', { className: r.status === 0 ? 'status ok' : 'status error', text: `${r.stdout || r.stderr ? '\n' : ''}exit status ${r.status}${r.truncated ? ' (output cut)' : ''}` }),
      );
      this.output.dataset.status = String(r.status);
    } catch (e) {
      this.output.textContent = `$ ${command}\n${(e as Error).message}`;
      this.output.dataset.status = 'error';
    }
  }
}
