import type { Duplex } from 'node:stream';
import { QemunetError } from '../../errors.js';
import type { GraphLayout, SessionView } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';
import { sessionDirOf } from './actions-requests.js';

/**
 * The sessions one web server shows. Each request names its own (`?session=DIR`, which the page
 * keeps in its address), so two browsers, or two tabs, show two sessions and neither moves the
 * other; a request that names none gets the session the server was started on. A named directory
 * must be one of the user's sessions (`known`); each is opened once and shared by its pages.
 */
export class SessionPool {
  private readonly opened = new Map<string, Promise<WebSession>>();

  constructor(
    readonly first: WebSession,
    private readonly open: (dir: string) => Promise<WebSession>,
    private readonly known: (dir: string) => Promise<boolean>,
  ) {}

  /** The session `dir` names (undefined or empty: the first one); throws BAD_SESSION for one that is not the user's. */
  async get(dir: string | undefined): Promise<WebSession> {
    if (!dir || dir === this.first.dir) return this.first;
    const checked = sessionDirOf(dir);
    let session = this.opened.get(checked);
    if (!session) {
      if (!(await this.known(checked))) throw new QemunetError('BAD_SESSION', `${checked} is not one of your sessions; the sessions list shows them`);
      session = this.opened.get(checked);
      if (!session) {
        session = this.open(checked);
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

  layout(): Promise<GraphLayout | undefined> {
    return Promise.resolve(undefined);
  }

  saveLayout(): Promise<void> {
    return Promise.reject(new QemunetError('NO_SESSION', NO_SESSION));
  }

  resizeConsole(): void {}

  close(): void {}
}
