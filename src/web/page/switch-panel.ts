import type { VlanRow } from '../vlan-table.js';
import { button, call, el, type Say } from './actions-client.js';

/**
 * A switch's actions: its management console (one vde_switch command at a time, and its answer)
 * and its VLAN table (`vlan/print` as a table). One panel per switch, kept while the page lives.
 */
export class SwitchPanel {
  readonly element: HTMLElement;
  private readonly command = el('input', { id: 'switch-command' });
  private readonly output = el('pre', { id: 'switch-output', className: 'output' });
  private readonly table = el('table', { id: 'vlan-table', className: 'vlans' });

  constructor(
    private readonly name: string,
    private readonly say: Say,
  ) {
    this.command.placeholder = 'management command, e.g. vlan/create 10';
    this.command.addEventListener('keydown', (e) => e.key === 'Enter' && void this.run());
    this.element = el(
      'div',
      { className: 'switch-panel' },
      el('div', { className: 'exec' }, this.command, button('Send', () => this.run(), 'switch-run'), button('VLAN table', () => this.vlans(), 'switch-vlans')),
      this.output,
      this.table,
    );
  }

  private async run(): Promise<void> {
    const command = this.command.value.trim();
    if (!command) return;
    try {
      const r = await call('switchCommand', { switch: this.name, command });
      this.output.textContent = `vde$ ${command}\n${[...r.data, `${r.code} ${r.message}`].join('\n')}`;
      this.output.dataset.code = String(r.code);
      // A command that changed VLANs shows in the table at once.
      if (this.table.rows.length) await this.vlans();
    } catch (e) {
      this.output.textContent = `vde$ ${command}\n${(e as Error).message}`;
      this.say((e as Error).message, true);
    }
  }

  private async vlans(): Promise<void> {
    try {
      this.render(await call('vlans', { switch: this.name }));
    } catch (e) {
      this.say((e as Error).message, true);
    }
  }

  private render(rows: VlanRow[]): void {
    const head = el('tr', {}, el('th', { text: 'VLAN' }), el('th', { text: 'untagged ports' }), el('th', { text: 'tagged ports' }));
    const ports = (r: VlanRow, tagged: boolean) =>
      r.ports
        .filter((p) => p.tagged === tagged)
        .map((p) => `${p.port}${p.active ? '' : ' (inactive)'}${p.status === 'Forwarding' ? '' : ` ${p.status}`}`)
        .join(', ') || '—';
    const body = rows.map((r) => {
      const tr = el('tr', {}, el('td', { text: String(r.vlan) }), el('td', { text: ports(r, false) }), el('td', { text: ports(r, true) }));
      tr.dataset.vlan = String(r.vlan);
      return tr;
    });
    this.table.replaceChildren(el('caption', { text: `VLANs of ${this.name}` }), head, ...body);
  }
}
