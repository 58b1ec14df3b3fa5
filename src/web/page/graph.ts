import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import type { SessionView } from '../protocol.js';

/** Host colours by state; the legend in index.html says the same. */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  pending: '#9aa0a6',
  starting: '#f2b01e',
  booting: '#f2b01e',
  stalled: '#e8710a',
  ready: '#1e8e3e',
  running: '#1e8e3e',
  stopping: '#9aa0a6',
  stopped: '#5f6368',
  crashed: '#d93025',
  failed: '#d93025',
};

/** Cytoscape elements for a session: a node per host, switch, hub and tap; an edge per NIC, trunk and tap. Pure. */
export function elementsOf(view: SessionView): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  for (const s of view.switches) out.push({ group: 'nodes', data: { id: `sw:${s.name}`, label: s.name, kind: s.hub ? 'hub' : 'switch' }, classes: s.hub ? 'hub' : 'switch' });
  for (const h of view.hosts) {
    out.push({ group: 'nodes', data: { id: `host:${h.name}`, label: h.name, kind: 'host', host: h.name, state: h.state, colour: STATE_COLOURS[h.state] ?? '#9aa0a6' }, classes: `host ${h.state}` });
    for (const n of h.nics) {
      out.push({
        group: 'edges',
        data: { id: `nic:${n.ref}`, source: `host:${h.name}`, target: `sw:${n.switch}`, kind: 'nic', nic: n.ref, label: [n.eth, n.up ? '' : 'down', n.faults ?? ''].filter(Boolean).join(' · ') },
        classes: n.up ? 'nic up' : 'nic down',
      });
    }
  }
  view.trunks.forEach((t, i) => out.push({ group: 'edges', data: { id: `trunk:${i}`, source: `sw:${t.a.switch}`, target: `sw:${t.b.switch}`, kind: 'trunk', label: 'trunk' }, classes: 'trunk' }));
  for (const t of view.taps) {
    out.push({ group: 'nodes', data: { id: `tap:${t.name}`, label: t.name, kind: 'tap' }, classes: 'tap' });
    out.push({ group: 'edges', data: { id: `tapl:${t.name}`, source: `tap:${t.name}`, target: `sw:${t.switch}`, kind: 'tap', label: '' }, classes: 'tap' });
  }
  return out;
}

/** The live graph: elements are updated in place, and laid out again only when some were added. */
export class TopologyGraph {
  readonly cy: Core;

  constructor(container: HTMLElement) {
    this.cy = cytoscape({
      container,
      maxZoom: 1.6,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'font-size': 12, color: '#e8eaed', 'text-valign': 'bottom', 'text-margin-y': 4, 'background-color': '#8ab4f8', width: 34, height: 34 } },
        { selector: 'node.host', style: { shape: 'round-rectangle', 'background-color': 'data(colour)', width: 44, height: 30 } },
        { selector: 'node.switch', style: { shape: 'rectangle', 'background-color': '#4285f4', width: 50, height: 22 } },
        { selector: 'node.hub', style: { shape: 'diamond', 'background-color': '#a142f4' } },
        { selector: 'node.tap', style: { shape: 'triangle', 'background-color': '#12b5cb' } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#fdd663' } },
        { selector: 'edge', style: { width: 3, 'line-color': '#80868b', label: 'data(label)', 'font-size': 10, color: '#bdc1c6', 'text-rotation': 'autorotate', 'text-background-color': '#202124', 'text-background-opacity': 0.8, 'curve-style': 'bezier' } },
        { selector: 'edge.down', style: { 'line-style': 'dashed', 'line-color': '#d93025' } },
        { selector: 'edge.trunk', style: { width: 6, 'line-color': '#4285f4' } },
        { selector: 'edge:selected', style: { 'line-color': '#fdd663' } },
      ],
    });
  }

  update(view: SessionView): void {
    const wanted = elementsOf(view);
    const ids = new Set(wanted.map((e) => e.data.id!));
    let added = false;
    this.cy.batch(() => {
      this.cy.elements().forEach((el) => {
        if (!ids.has(el.id())) el.remove();
      });
      for (const def of wanted) {
        const el = this.cy.getElementById(def.data.id!);
        if (el.empty()) {
          this.cy.add(def);
          added = true;
        } else {
          el.data(def.data);
          el.classes(def.classes as string);
        }
      }
    });
    if (added) this.cy.layout({ name: 'cose', animate: false, nodeDimensionsIncludeLabels: true, padding: 30 }).run();
  }
}
