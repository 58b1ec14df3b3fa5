import RFB from '@novnc/novnc';
import { screenPath, type SessionView } from '../protocol.js';
import type { ConsoleTabs, Pane } from './consoles.js';
import { wsProtocols, wsUrl } from './auth.js';
import { withSession } from './shown-session.js';

const RETRY_MS = 1000;

/**
 * A host's screen in a tab: noVNC's RFB client on the web server's /ws/screen/HOST websocket,
 * which the server joins to the host's VNC server. It connects when its tab is first shown, and
 * again after every disconnection (a VM restart, the server restarting) while the page lives:
 * an RFB object serves one connection, so each attempt gets a new one.
 */
export class ScreenView implements Pane {
  readonly element: HTMLDivElement;
  private rfb?: RFB;
  private retry?: number;
  /** For tests and the tab's look: whether a VNC session is up, and how many there were. */
  connected = false;
  connects = 0;

  constructor(
    readonly host: string,
    parent: HTMLElement,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-box screen-box disconnected';
    this.element.dataset.screen = host;
    parent.append(this.element);
  }

  show(): void {
    if (!this.rfb && this.retry === undefined) this.connect();
    this.rfb?.focus({ preventScroll: true });
  }

  /** The noVNC canvas (absent between connections). */
  canvas(): HTMLCanvasElement | null {
    return this.element.querySelector('canvas');
  }

  private connect(): void {
    this.retry = undefined;
    const rfb = new RFB(this.element, wsUrl(withSession(screenPath(this.host))), { shared: true, wsProtocols: wsProtocols() });
    rfb.scaleViewport = true;
    rfb.background = '#111417';
    this.rfb = rfb;
    rfb.addEventListener('connect', () => {
      this.connected = true;
      this.connects++;
      this.element.classList.remove('disconnected');
      if (this.element.classList.contains('active')) rfb.focus({ preventScroll: true });
    });
    rfb.addEventListener('disconnect', () => {
      this.rfb = undefined;
      this.connected = false;
      this.element.classList.add('disconnected');
      this.retry = window.setTimeout(() => this.connect(), RETRY_MS);
    });
  }
}

/** The screen tabs: one per host whose screen the server bridges, added as such hosts appear in the view. */
export class ScreenTabs {
  private readonly views = new Map<string, ScreenView>();

  constructor(private readonly tabs: ConsoleTabs) {}

  update(view: SessionView): void {
    for (const h of view.hosts) {
      if (!h.screen || this.views.has(h.name)) continue;
      this.tabs.addPane(`screen:${h.name}`, `${h.name} screen`, (area) => {
        const v = new ScreenView(h.name, area);
        this.views.set(h.name, v);
        return v;
      }, { screen: h.name });
    }
  }

  open(host: string): void {
    this.tabs.activate(`screen:${host}`);
  }

  get(host: string): ScreenView | undefined {
    return this.views.get(host);
  }
}
