/**
 * The graph as an SVG file, from the positions the page's graph has. Hand-written rather than
 * cytoscape-svg: that plugin redraws cytoscape's canvas through a vendored canvas2svg, so its text
 * comes out as glyph paths or canvas calls; a few dozen lines give a clean file whose labels are
 * <text> a person or a script can search. Pure (no DOM, no Node): the page and unit tests use it.
 */

export type SvgShape = 'host' | 'switch' | 'hub' | 'tap';

export interface SvgNode {
  label: string;
  shape: SvgShape;
  colour: string;
  x: number;
  y: number;
}

export interface SvgEdge {
  from: { x: number; y: number };
  to: { x: number; y: number };
  label: string;
  kind: 'nic' | 'trunk' | 'tap';
  down: boolean;
  capturing: boolean;
}

const PAD = 40;
const BG = '#202124';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const num = (v: number) => String(Math.round(v * 10) / 10);

function shape(n: SvgNode): string {
  const { x, y } = n;
  const fill = `fill="${escapeXml(n.colour)}"`;
  switch (n.shape) {
    case 'host':
      return `<rect x="${num(x - 22)}" y="${num(y - 15)}" width="44" height="30" rx="6" ${fill}/>`;
    case 'switch':
      return `<rect x="${num(x - 25)}" y="${num(y - 11)}" width="50" height="22" ${fill}/>`;
    case 'hub':
      return `<polygon points="${num(x)},${num(y - 17)} ${num(x + 17)},${num(y)} ${num(x)},${num(y + 17)} ${num(x - 17)},${num(y)}" ${fill}/>`;
    case 'tap':
      return `<polygon points="${num(x)},${num(y - 17)} ${num(x + 17)},${num(y + 15)} ${num(x - 17)},${num(y + 15)}" ${fill}/>`;
  }
}

function edge(e: SvgEdge): string {
  const colour = e.capturing ? '#fdd663' : e.down ? '#d93025' : e.kind === 'trunk' ? '#4285f4' : '#80868b';
  const width = e.kind === 'trunk' ? 6 : 3;
  const dash = e.down ? ' stroke-dasharray="8 5"' : '';
  const line = `<line x1="${num(e.from.x)}" y1="${num(e.from.y)}" x2="${num(e.to.x)}" y2="${num(e.to.y)}" stroke="${colour}" stroke-width="${width}"${dash}/>`;
  if (!e.label) return line;
  const mx = (e.from.x + e.to.x) / 2;
  const my = (e.from.y + e.to.y) / 2;
  return `${line}<text x="${num(mx)}" y="${num(my - 4)}" font-size="10" fill="#bdc1c6" text-anchor="middle">${escapeXml(e.label)}</text>`;
}

/** A whole SVG document: edges under nodes, each node's label under it, the view fitted to the drawing. */
export function graphSvg(nodes: readonly SvgNode[], edges: readonly SvgEdge[]): string {
  const xs = nodes.map((n) => n.x);
  const ys = nodes.map((n) => n.y);
  const minX = Math.min(0, ...xs) - PAD;
  const minY = Math.min(0, ...ys) - PAD;
  const width = Math.max(0, ...xs) + PAD - minX;
  const height = Math.max(0, ...ys) + PAD + 16 - minY;
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${num(minX)} ${num(minY)} ${num(width)} ${num(height)}" width="${Math.ceil(width)}" height="${Math.ceil(height)}" font-family="DejaVu Sans, sans-serif">`,
    `<rect x="${num(minX)}" y="${num(minY)}" width="${num(width)}" height="${num(height)}" fill="${BG}"/>`,
    ...edges.map(edge),
    ...nodes.map((n) => `<g>${shape(n)}<text x="${num(n.x)}" y="${num(n.y + 32)}" font-size="12" fill="#e8eaed" text-anchor="middle">${escapeXml(n.label)}</text></g>`),
    '</svg>',
    '',
  ];
  return parts.join('\n');
}
