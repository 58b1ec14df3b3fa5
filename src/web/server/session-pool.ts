import type { Duplex } from 'node:stream';
import { QemunetError } from '../../errors.js';
import type { ActionRequest, Cursor, GraphLayout, SessionView } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';
import { sessionDirOf } from './actions-requests.js';

/**
 * A session as the web server shows it: the session's own views, with the NICs this server
 * captures marked (`capturing`), which the session's state does not know.
 */
export class MarkedSession implements WebSession {
  private readonly subscribers = new Set<(v: SessionView) => void>();
  private readonly captures = new Map<string, number>();
  private last?: SessionView;

  constructor(private readonly session: WebSession) {}

  get dir(): string {
    return this.session.dir;
  }

  async view(): Promise<SessionView> {
    return this.decorate(await this.session.view());
  }

  subscribe(onView: (view: SessionView) => void): () => void {
    this.subscribers.add(onView);
    const off = this.session.subscribe((v) => {
      this.last = v;
      onView(this.decorate(v));
    });
    return () => {
      off();
      this.subscribers.delete(onView);
    };
  }

  /** Marks a NIC as being captured until the returned function is called. */
  capturing(nic: string): () => void {
    this.captures.set(nic, (this.captures.get(nic) ?? 0) + 1);
    this.republish();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.captures.get(nic) ?? 1) - 1;
      if (n > 0) this.captures.set(nic, n);
      else this.captures.delete(nic);
      this.republish();
    };
  }

  openConsole(host: string, cursor?: Cursor): Promise<ConsoleStream> {
    return this.session.openConsole(host, cursor);
  }

  openScreen(host: string): Promise<Duplex> {
    return this.session.openScreen(host);
  }

  act(request: ActionRequest): Promise<unknown> {
    return this.session.act(request);
  }

  capture(nic: string, seconds: number, signal: AbortSignal): Promise<Buffer> {
    return this.session.capture(nic, seconds, signal);
  }

  layout(): Promise<GraphLayout | undefined> {
    return this.session.layout();
  }

  saveLayout(layout: unknown): Promise<void> {
    return this.session.saveLayout(layout);
  }

  resizeConsole(host: string, cols: number, rows: number): void {
    this.session.resizeConsole(host, cols, rows);
  }

  close(): void {
    this.subscribers.clear();
    this.session.close();
  }

  private republish(): void {
    if (!this.last) return;
    const view = this.decorate(this.last);
    for (const onView of this.subscribers) onView(view);
  }

  private decorate(view: SessionView): SessionView {
    if (!this.captures.size) return view;
    return { ...view, hosts: view.hosts.map((h) => ({ ...h, nics: h.nics.map((n) => (this.captures.has(n.ref) ? { ...n, capturing: true } : n)) })) };
  }
}

/**
 * The sessions one web server shows. Each request names its own (`?session=DIR`, which the page
 * keeps in its address), so two browsers, or two tabs, show two sessions and neither moves the
 * other; a request that names none gets the session the server was started on. A named directory
 * must be one of the user's sessions (`known`); each is opened once and shared by its pages.
 */
export class SessionPool {
  readonly first: MarkedSession;
  private readonly opened = new Map<string, Promise<MarkedSession>>();

  constructor(
    first: WebSession,
    private readonly open: (dir: string) => Promise<WebSession>,
    private readonly known: (dir: string) => Promise<boolean>,
  ) {
    this.first = new MarkedSession(first);
  }

  /** The session `dir` names (undefined or empty: the first one); throws BAD_SESSION for one that is not the user's. */
  async get(dir: string | undefined): Promise<MarkedSession> {
    if (!dir || dir === this.first.dir) return this.first;
    const checked = sessionDirOf(dir);
    let session = this.opened.get(checked);
    if (!session) {
      if (!(await this.known(checked))) throw new QemunetError('BAD_SESSION', `${checked} is not one of your sessions; the sessions list shows them`);
      session = this.opened.get(checked);
      if (!session) {
        session = this.open(checked).then((s) => new MarkedSession(s));
        this.opened.set(checked, session);
        // A session that failed to open is tried afresh next time.
        session.catch(() => this.opened.delete(checked));
      }
    }
    return session;
  }

  async close(): Promise<void> {
    this.first.close();
    const opened = [...this.opened.values()];
    this.opened.clear();
    await Promise.all(opened.map((s) => s.then((x) => x.close(), () => {})));
  }
}

const NO_SESSION = 'no session is shown: choose one in the sessions list, or start one from the labs folder';

/** What the server shows before any session is chosen (`qemunet web --labs DIR` with none running). */
export class NoSession implements WebSession {
  readonly dir: string = '';

  view(): Promise<SessionView> {
    return Promise.resolve({ dir: '', topology: '', phase: 'stopped', hosts: [], switches: [], trunks: [], taps: [] });
  }

  subscribe(onView: (view: SessionView) => void): () => void {
    void this.view().then(onView);
    return () => {};
  }

  openConsole(): Promise<ConsoleStream> {
    return Promise.reject(new QemunetError('NO_SESSION', NO_SESSION));
  }

  openScreen(): Promise<Duplex> {
    return Promise.reject(new QemunetError('NO_SESSION', NO_SESSION));
  }

  act(): Promise<unknown> {
    return this.openConsole();
  }

  capture(): Promise<Buffer> {
    return Promise.reject(new QemunetError('NO_SESSION', NO_SESSION));
  }

  layout(): Promise<GraphLayout | undefined> {
    return Promise.resolve(undefined);
  }

  saveLayout(): Promise<void> {
    return Promise.reject(new QemunetError('NO_SESSION', NO_SESSION));
  }

  resizeConsole(): void {}

  close(): void {}
}
