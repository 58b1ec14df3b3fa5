import type { Duplex } from 'node:stream';
import { QemunetError } from '../../errors.js';
import type { ActionRequest, Cursor, GraphLayout, SessionView } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';

/**
 * The session the server shows, which the page can change (the sessions list, a lab started from
 * --labs): every subscriber moves to the new session's views, and whatever the page asks goes to it.
 * It also marks the NICs this server captures (`capturing` in the view), which the session's own
 * state does not know.
 */
export class SessionSwitch implements WebSession {
  private readonly subscribers = new Set<{ onView: (v: SessionView) => void; off: () => void }>();
  private readonly captures = new Map<string, number>();
  private last?: SessionView;

  constructor(
    private current: WebSession,
    private readonly openSession: (dir: string) => Promise<WebSession>,
  ) {}

  get dir(): string {
    return this.current.dir;
  }

  async view(): Promise<SessionView> {
    return this.decorate(await this.current.view());
  }

  subscribe(onView: (view: SessionView) => void): () => void {
    const entry = { onView, off: () => {} };
    this.subscribers.add(entry);
    entry.off = this.current.subscribe((v) => this.deliver(entry, v));
    return () => {
      entry.off();
      this.subscribers.delete(entry);
    };
  }

  /** Shows another session from now on; its first view goes to every subscriber. */
  async select(dir: string): Promise<void> {
    if (dir === this.current.dir) return;
    const next = await this.openSession(dir);
    const old = this.current;
    this.current = next;
    this.captures.clear();
    for (const entry of this.subscribers) {
      entry.off();
      entry.off = next.subscribe((v) => this.deliver(entry, v));
    }
    old.close();
  }

  /** Marks a NIC as being captured until the returned function is called. */
  capturing(nic: string): () => void {
    const dir = this.current.dir;
    this.captures.set(nic, (this.captures.get(nic) ?? 0) + 1);
    this.republish();
    let done = false;
    return () => {
      if (done || dir !== this.current.dir) return;
      done = true;
      const n = (this.captures.get(nic) ?? 1) - 1;
      if (n > 0) this.captures.set(nic, n);
      else this.captures.delete(nic);
      this.republish();
    };
  }

  openConsole(host: string, cursor?: Cursor): Promise<ConsoleStream> {
    return this.current.openConsole(host, cursor);
  }

  openScreen(host: string): Promise<Duplex> {
    return this.current.openScreen(host);
  }

  act(request: ActionRequest): Promise<unknown> {
    return this.current.act(request);
  }

  capture(nic: string, seconds: number, signal: AbortSignal): Promise<Buffer> {
    return this.current.capture(nic, seconds, signal);
  }

  layout(): Promise<GraphLayout | undefined> {
    return this.current.layout();
  }

  saveLayout(layout: unknown): Promise<void> {
    return this.current.saveLayout(layout);
  }

  resizeConsole(host: string, cols: number, rows: number): void {
    this.current.resizeConsole(host, cols, rows);
  }

  close(): void {
    for (const entry of this.subscribers) entry.off();
    this.subscribers.clear();
    this.current.close();
  }

  private deliver(entry: { onView: (v: SessionView) => void }, view: SessionView): void {
    if (view.dir === this.current.dir) this.last = view;
    entry.onView(this.decorate(view));
  }

  private republish(): void {
    if (!this.last) return;
    const view = this.decorate(this.last);
    for (const entry of this.subscribers) entry.onView(view);
  }

  private decorate(view: SessionView): SessionView {
    if (!this.captures.size) return view;
    return { ...view, hosts: view.hosts.map((h) => ({ ...h, nics: h.nics.map((n) => (this.captures.has(n.ref) ? { ...n, capturing: true } : n)) })) };
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
