import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { consolePath, decodeConsoleServer, gapMarker, type Cursor } from '../protocol.js';
import { wsProtocols, wsUrl } from './auth.js';
import { withSession } from './shown-session.js';

/** Pending terminal writes above this ask the server to pause the console; below LOW_WATER it resumes (as ttyd does). */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 32 * 1024;

/**
 * One host's console in a tab: an xterm.js terminal on a websocket of binary frames. It keeps
 * the console cursor (epoch, offset) of the last byte it wrote, so a dropped connection resumes
 * exactly there; a page reload starts fresh and gets all the history the hub still keeps.
 */
export class ConsoleView implements Pane {
  readonly element: HTMLDivElement;
  private readonly term: Terminal;
  private readonly fit = new FitAddon();
  private ws?: WebSocket;
  private cursor?: Cursor;
  private pending = 0;
  private pausedServer = false;
  private closed = false;
  private fresh = true;

  private readonly probes = new Set<(bytes: Uint8Array) => void>();
  private resizeTimer?: number;
  private sizedEpoch?: string;

  constructor(
    readonly host: string,
    parent: HTMLElement,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-box';
    this.element.dataset.host = host;
    const title = document.createElement('div');
    title.className = 'pane-title';
    title.textContent = host;
    const screen = document.createElement('div');
    screen.className = 'terminal-screen';
    this.element.append(title, screen);
    parent.append(this.element);
    this.term = new Terminal({ convertEol: false, scrollback: 5000, fontFamily: 'DejaVu Sans Mono, monospace', fontSize: 14, theme: { background: '#111417' } });
    this.term.loadAddon(this.fit);
    this.term.open(screen);
    const encoder = new TextEncoder();
    this.term.onData((text) => this.input(encoder.encode(text)));
    this.term.onBinary((bin) => this.input(Uint8Array.from(bin, (c) => c.charCodeAt(0) & 0xff)));
    this.term.attachCustomKeyEventHandler((e) => clipboardKey(e, this.term));
    this.term.onResize(() => this.sendSizeSoon());
    // Whatever changes the pane's size (window, split view, tab shown) fits the terminal to it.
    new ResizeObserver(() => this.element.offsetParent && this.fit.fit()).observe(screen);
    this.connect();
  }

  /** Re-measures after the tab became visible or the window changed size. */
  show(): void {
    this.fit.fit();
    this.term.focus();
  }

  /** Selects the whole buffer, as a drag over it would. */
  selectAll(): void {
    this.term.selectAll();
  }

  /** The terminal's size in characters (what the guest is told). */
  size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /**
   * Types `text` and resolves with the milliseconds until a chunk of output holding its echo was
   * written to the terminal (the benchmark's keystroke-to-echo latency).
   */
  echoProbe(text: string, echo = text): Promise<number> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      const want = new TextEncoder().encode(echo);
      const probe = (bytes: Uint8Array) => {
        if (!includes(bytes, want)) return;
        this.probes.delete(probe);
        resolve(performance.now() - t0);
      };
      this.probes.add(probe);
      this.input(new TextEncoder().encode(text));
    });
  }

  /** The whole buffer as text, one line per row (for tests and copying). */
  text(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  dispose(): void {
    this.closed = true;
    this.ws?.close();
    this.term.dispose();
    this.element.remove();
  }

  private input(bytes: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  private connect(): void {
    const ws = new WebSocket(wsUrl(withSession(consolePath(this.host, this.cursor))), wsProtocols());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.pausedServer = false;
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === 'string') return this.control(e.data);
      const bytes = new Uint8Array(e.data);
      if (this.cursor) this.cursor = { epoch: this.cursor.epoch, offset: this.cursor.offset + bytes.length };
      this.pending += bytes.length;
      this.term.write(bytes, () => {
        this.pending -= bytes.length;
        for (const p of this.probes) p(bytes);
        if (this.pausedServer && this.pending < LOW_WATER) this.flow('resume');
      });
      if (!this.pausedServer && this.pending > HIGH_WATER) this.flow('pause');
    };
    ws.onclose = () => {
      if (this.closed) return;
      this.element.classList.add('disconnected');
      setTimeout(() => this.connect(), 1000);
    };
    ws.onopen = () => this.element.classList.remove('disconnected');
  }

  /** The guest learns the size once the user stops dragging. */
  private sendSizeSoon(): void {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = window.setTimeout(() => this.sendSize(), 150);
  }

  private sendSize(): void {
    if (this.ws?.readyState === WebSocket.OPEN && this.term.cols > 0 && this.term.rows > 0) this.ws.send(JSON.stringify({ t: 'resize', cols: this.term.cols, rows: this.term.rows }));
  }

  private flow(t: 'pause' | 'resume'): void {
    this.pausedServer = t === 'pause';
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ t }));
  }

  private control(text: string): void {
    const m = decodeConsoleServer(text);
    if (!m) return;
    if (m.t === 'hello') {
      const marker = gapMarker(m.lost, this.fresh);
      if (marker) this.term.write(marker);
      this.fresh = false;
      this.cursor = { epoch: m.epoch, offset: m.from };
      this.element.classList.remove('unavailable');
      // A new VM start has a console of no size yet (a mere reconnect keeps the one it had).
      if (m.epoch !== this.sizedEpoch) {
        this.sizedEpoch = m.epoch;
        this.sendSize();
      }
    } else if (m.t === 'unavailable') {
      this.element.classList.add('unavailable');
    } else {
      this.term.write(`\r\n\x1b[31m[qemunet: ${m.message}]\x1b[0m\r\n`);
    }
  }
}

/** What a tab shows: a host's console, or another kind of pane (a screen: screen.ts). */
export interface Pane {
  readonly element: HTMLElement;
  /** Called each time its tab becomes the active one. */
  show(): void;
}

/**
 * Copy and paste as in desktop terminals: Ctrl+Shift+C (or Ctrl+C over a selection) copies,
 * Ctrl+V and Ctrl+Shift+V paste (the browser's paste event reaches xterm.js, which sends the text,
 * bracketed when the guest asked). Every other key goes to the guest, Ctrl+C without a selection too.
 */
export function clipboardKey(e: KeyboardEvent, term: Terminal): boolean {
  if (e.type !== 'keydown' || !e.ctrlKey || e.altKey || e.metaKey) return true;
  if (e.code === 'KeyC' && (e.shiftKey || term.hasSelection())) {
    e.preventDefault();
    const text = term.getSelection();
    if (text) void navigator.clipboard.writeText(text);
    if (!e.shiftKey) term.clearSelection();
    return false;
  }
  // Not handled by xterm.js and not prevented: the browser pastes.
  return e.code !== 'KeyV';
}

function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The tabs and their panes: a console per host, opened on demand, and other panes added by key
 * (a screen: screen.ts); kept while the page lives. Shown one at a time, or several side by side
 * (split view: a tab then adds its pane to the view, or takes it out).
 */
export class ConsoleTabs {
  private readonly consoles = new Map<string, ConsoleView>();
  private readonly panes = new Map<string, Pane>();
  private readonly tabs = new Map<string, HTMLButtonElement>();
  /** The panes on screen, in order: one in tabs mode. */
  private shown: string[] = [];
  private split = false;

  constructor(
    private readonly tabBar: HTMLElement,
    private readonly area: HTMLElement,
  ) {}

  /** Opens a host's console. */
  open(host: string): void {
    this.ensure(host);
    this.activate(host);
  }

  /** Adds a tab for a pane once (`key` apart from host names); `create` runs then, `show()` each time it is shown. */
  addPane(key: string, label: string, create: (area: HTMLElement) => Pane, data: Record<string, string>): void {
    if (!this.panes.has(key)) this.add(key, label, create(this.area), data);
  }

  /** Shows a pane: the only one in tabs mode, one more side by side. */
  activate(key: string): void {
    if (!this.panes.has(key)) return;
    if (!this.split) this.shown = [key];
    else if (!this.shown.includes(key)) this.shown.push(key);
    this.arrange(key);
  }

  /** Tab click: in tabs mode it shows that pane; side by side it adds it to the view or takes it out. */
  private toggle(key: string): void {
    if (!this.split || !this.shown.includes(key)) return this.activate(key);
    if (this.shown.length === 1) return;
    this.shown = this.shown.filter((k) => k !== key);
    this.arrange(this.shown[0]!);
  }

  /** Side by side (every open console, or `hosts`) or back to tabs (the first shown pane stays). */
  setSplit(on: boolean, hosts?: readonly string[]): void {
    this.split = on;
    for (const h of hosts ?? []) this.ensure(h);
    if (on) this.shown = hosts?.length ? [...hosts] : [...this.consoles.keys()];
    else this.shown = this.shown.slice(0, 1);
    this.area.classList.toggle('split', on);
    if (this.shown[0]) this.arrange(this.shown[0]);
  }

  get isSplit(): boolean {
    return this.split;
  }

  text(host: string): string | undefined {
    return this.consoles.get(host)?.text();
  }

  view(host: string): ConsoleView | undefined {
    return this.consoles.get(host);
  }

  openAll(hosts: readonly string[]): void {
    for (const h of hosts) this.ensure(h);
    if (this.split) this.setSplit(true, hosts);
    else if (hosts[0]) this.open(hosts[0]);
  }

  private ensure(host: string): void {
    if (this.consoles.has(host)) return;
    const view = new ConsoleView(host, this.area);
    this.consoles.set(host, view);
    this.add(host, host, view, { host });
  }

  private add(key: string, label: string, pane: Pane, data: Record<string, string>): void {
    const tab = document.createElement('button');
    tab.className = 'tab';
    tab.textContent = label;
    Object.assign(tab.dataset, data);
    tab.addEventListener('click', () => this.toggle(key));
    this.tabBar.append(tab);
    this.tabs.set(key, tab);
    this.panes.set(key, pane);
  }

  private arrange(focus: string): void {
    for (const [key, pane] of this.panes) {
      const on = this.shown.includes(key);
      pane.element.classList.toggle('active', on);
      pane.element.style.order = String(this.shown.indexOf(key));
      this.tabs.get(key)!.classList.toggle('active', on);
    }
    this.area.style.setProperty('--panes', String(Math.min(this.shown.length, this.shown.length > 4 ? 3 : 2)));
    for (const k of this.shown) this.panes.get(k)!.show();
    this.panes.get(focus)?.show();
  }
}
