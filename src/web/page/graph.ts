import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import type { GraphLayout, SessionView } from '../protocol.js';

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
    // The state in words too, for whoever does not tell the colours apart (and in exported files).
    const label = h.state === 'ready' || h.state === 'running' ? h.name : `${h.name}\n${h.state}`;
    out.push({ group: 'nodes', data: { id: `host:${h.name}`, label, kind: 'host', host: h.name, state: h.state, colour: STATE_COLOURS[h.state] ?? '#9aa0a6' }, classes: `host ${h.state}` });
    for (const n of h.nics) {
      out.push({
        group: 'edges',
        data: { id: `nic:${n.ref}`, source: `host:${h.name}`, target: `sw:${n.switch}`, kind: 'nic', nic: n.ref, label: [n.capturing ? '● capture' : '', n.eth, n.up ? '' : 'down', n.faults ?? ''].filter(Boolean).join(' · ') },
        classes: `nic ${n.up ? 'up' : 'down'}${n.capturing ? ' capturing' : ''}`,
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

/**
 * The live graph: elements are updated in place, and laid out again only when some were added.
 * Positions kept in the session (dragged by someone) win over the automatic layout.
 */
export class TopologyGraph {
  readonly cy: Core;
  private saved: GraphLayout['positions'] = {};
  /** Milliseconds from a view that added elements to the frame after it was laid out and drawn (the benchmark reads them). */
  readonly drawTimes: number[] = [];

  constructor(container: HTMLElement) {
    this.cy = cytoscape({
      container,
      maxZoom: 1.6,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'font-size': 12, color: '#e8eaed', 'text-valign': 'bottom', 'text-margin-y': 4, 'background-color': '#8ab4f8', width: 34, height: 34 } },
        { selector: 'node.host', style: { shape: 'round-rectangle', 'background-color': 'data(colour)', width: 44, height: 30 } },
        { selector: 'node.switch', style: { shape: 'rectangle', 'background-color': '#4285f4', width: 50, height: 22 } },
        { selector: 'node.hub', style: { shape: 'diamond', 'background-color': '#a142f4' } },
        { selector: 'node.tap', style: { shape: 'triangle', 'background-color': '#12b5cb' } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#fdd663' } },
        { selector: 'edge', style: { width: 3, 'line-color': '#80868b', label: 'data(label)', 'font-size': 10, color: '#bdc1c6', 'text-rotation': 'autorotate', 'text-background-color': '#202124', 'text-background-opacity': 0.8, 'curve-style': 'bezier' } },
        { selector: 'edge.down', style: { 'line-style': 'dashed', 'line-color': '#d93025' } },
        { selector: 'edge.capturing', style: { 'underlay-color': '#fdd663', 'underlay-opacity': 0.45, 'underlay-padding': 5, color: '#fdd663' } },
        { selector: 'edge.trunk', style: { width: 6, 'line-color': '#4285f4' } },
        { selector: 'edge:selected', style: { 'line-color': '#fdd663' } },
      ],
    });
    // The pane's panels (selection, checks) take height and give it back: the graph follows, and is
    // fitted again when part of it would be out of sight (a node below the fold cannot be clicked).
    new ResizeObserver(() => {
      this.cy.resize();
      if (!this.inSight()) this.cy.fit(undefined, 30);
    }).observe(container);
  }

  private inSight(): boolean {
    if (this.cy.elements().empty()) return true;
    const b = this.cy.elements().renderedBoundingBox();
    return b.x1 >= 0 && b.y1 >= 0 && b.x2 <= this.cy.width() && b.y2 <= this.cy.height();
  }

  update(view: SessionView): void {
    const t0 = performance.now();
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
    if (added) {
      this.layout();
      requestAnimationFrame(() => requestAnimationFrame(() => this.drawTimes.push(performance.now() - t0)));
    }
  }

  /** Puts nodes where the session's layout says; a node it does not name is placed by the automatic layout. */
  setSaved(layout: GraphLayout | undefined): void {
    this.saved = layout?.positions ?? {};
    if (this.cy.nodes().nonempty()) this.layout();
  }

  /** Remembers the layout just saved from this graph, without moving anything. */
  setSavedQuietly(layout: GraphLayout): void {
    this.saved = layout.positions;
  }

  /** Every node's position, as the session keeps it. */
  positions(): GraphLayout {
    const positions: GraphLayout['positions'] = {};
    this.cy.nodes().forEach((n) => {
      const p = n.position();
      positions[n.id()] = { x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 };
    });
    return { positions };
  }

  private layout(): void {
    const nodes = this.cy.nodes();
    const known = nodes.filter((n) => this.saved[n.id()] !== undefined);
    if (known.length < nodes.length) this.cy.layout({ name: 'cose', animate: false, nodeDimensionsIncludeLabels: true, padding: 30 }).run();
    if (known.nonempty()) {
      known.forEach((n) => void n.position({ ...this.saved[n.id()]! }));
      this.cy.fit(undefined, 30);
    }
  }
}
