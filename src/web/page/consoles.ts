import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { consolePath, decodeConsoleServer, gapMarker, type Cursor } from '../protocol.js';

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

  constructor(
    readonly host: string,
    parent: HTMLElement,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-box';
    this.element.dataset.host = host;
    parent.append(this.element);
    this.term = new Terminal({ convertEol: false, scrollback: 5000, fontFamily: 'DejaVu Sans Mono, monospace', fontSize: 14, theme: { background: '#111417' } });
    this.term.loadAddon(this.fit);
    this.term.open(this.element);
    const encoder = new TextEncoder();
    this.term.onData((text) => this.input(encoder.encode(text)));
    this.term.onBinary((bin) => this.input(Uint8Array.from(bin, (c) => c.charCodeAt(0) & 0xff)));
    this.connect();
  }

  /** Re-measures after the tab became visible or the window changed size. */
  show(): void {
    this.fit.fit();
    this.term.focus();
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
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${consolePath(this.host, this.cursor)}`);
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

/** The tab bar and its panes: a console per host, opened on demand, and other panes added by key; kept while the page lives. */
export class ConsoleTabs {
  private readonly views = new Map<string, ConsoleView>();
  private readonly panes = new Map<string, Pane>();
  private readonly tabs = new Map<string, HTMLButtonElement>();
  private active?: string;

  constructor(
    private readonly tabBar: HTMLElement,
    private readonly area: HTMLElement,
  ) {
    window.addEventListener('resize', () => this.active && this.panes.get(this.active)?.show());
  }

  open(host: string): void {
    if (!this.views.has(host)) {
      const view = new ConsoleView(host, this.area);
      this.views.set(host, view);
      this.add(host, host, view, { host });
    }
    this.activate(host);
  }

  /** Adds a tab for a pane once (`key` apart from host names); `create` runs then, `show()` when it is clicked. */
  addPane(key: string, label: string, create: (area: HTMLElement) => Pane, data: Record<string, string>): void {
    if (!this.panes.has(key)) this.add(key, label, create(this.area), data);
  }

  activate(key: string): void {
    if (!this.panes.has(key)) return;
    this.active = key;
    for (const [name, pane] of this.panes) {
      const on = name === key;
      pane.element.classList.toggle('active', on);
      this.tabs.get(name)!.classList.toggle('active', on);
    }
    this.panes.get(key)!.show();
  }

  text(host: string): string | undefined {
    return this.views.get(host)?.text();
  }

  openAll(hosts: readonly string[]): void {
    for (const h of hosts) this.open(h);
    if (hosts[0]) this.open(hosts[0]);
  }

  private add(key: string, label: string, pane: Pane, data: Record<string, string>): void {
    const tab = document.createElement('button');
    tab.className = 'tab';
    tab.textContent = label;
    Object.assign(tab.dataset, data);
    tab.addEventListener('click', () => this.activate(key));
    this.tabBar.append(tab);
    this.tabs.set(key, tab);
    this.panes.set(key, pane);
  }
}
