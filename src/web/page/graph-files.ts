import type { NodeSingular } from 'cytoscape';
import { graphSvg, type SvgEdge, type SvgNode, type SvgShape } from '../graph-svg.js';
import type { TopologyGraph } from './graph.js';
import { call } from './actions-client.js';

/** Drags end in bursts: the layout is written once they stop. */
const SAVE_DELAY_MS = 250;

/**
 * The graph's files: its node positions kept in the session (loaded at start, saved after a drag,
 * so a reload or another browser draws the same picture), and PNG/SVG exports.
 */
export class GraphFiles {
  private timer?: number;
  /** Resolves when the last save has been answered (tests wait on it). */
  saved: Promise<void> = Promise.resolve();

  constructor(
    private readonly graph: TopologyGraph,
    private readonly onError: (message: string) => void,
  ) {
    graph.cy.on('dragfree', 'node', () => {
      clearTimeout(this.timer);
      this.timer = window.setTimeout(() => (this.saved = this.save()), SAVE_DELAY_MS);
    });
  }

  async load(): Promise<void> {
    const layout = await call('layout', undefined).catch(() => null);
    if (layout) this.graph.setSaved(layout);
  }

  private async save(): Promise<void> {
    const layout = this.graph.positions();
    this.graph.setSavedQuietly(layout);
    await call('saveLayout', layout).catch((e: Error) => this.onError(`the layout was not kept: ${e.message}`));
  }

  png(): Blob {
    return this.graph.cy.png({ output: 'blob', full: true, scale: 2, bg: '#202124' });
  }

  svg(): Blob {
    const cy = this.graph.cy;
    const nodes: SvgNode[] = cy.nodes().map((n: NodeSingular) => ({
      label: String(n.data('label') ?? n.id()).replace(/\n/g, ' · '),
      shape: (['host', 'switch', 'hub', 'tap'].includes(n.data('kind') as string) ? n.data('kind') : 'switch') as SvgShape,
      colour: n.style('background-color') as string,
      ...n.position(),
    }));
    const edges: SvgEdge[] = cy.edges().map((e) => ({
      from: { ...e.source().position() },
      to: { ...e.target().position() },
      label: String(e.data('label') ?? ''),
      kind: e.data('kind') as SvgEdge['kind'],
      down: e.hasClass('down'),
      capturing: e.hasClass('capturing'),
    }));
    return new Blob([graphSvg(nodes, edges)], { type: 'image/svg+xml' });
  }

  /** Hands a file to the browser's downloads. */
  static download(blob: Blob, name: string): void {
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
