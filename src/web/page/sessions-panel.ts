import { button, call, download, el, send, type Say } from './actions-client.js';
import { showSession } from './shown-session.js';

/**
 * The sessions dialog: the user's sessions (as `qemunet ls -a`) with a button to show one, and the
 * labs folder's topologies and archives (`qemunet web --labs DIR`) with a button to start one. Also
 * the session's "Save .tgz" download. Both buttons go in the page's header.
 */
export class SessionsPanel {
  private readonly dialog = el('dialog', { id: 'sessions-dialog' });
  private readonly sessions = el('table', { id: 'sessions-list', className: 'list' });
  private readonly labs = el('table', { id: 'labs-list', className: 'list' });
  private readonly message = el('p', { id: 'sessions-message' });

  constructor(
    header: HTMLElement,
    before: Element | null,
    private readonly say: Say,
  ) {
    header.insertBefore(button('Sessions…', () => this.open(), 'sessions-open'), before);
    header.insertBefore(button('Save .tgz', () => this.save(), 'save-session'), before);
    this.dialog.append(el('h3', { text: 'Your sessions' }), this.sessions, el('h3', { text: 'Labs' }), this.labs, this.message, button('Close', () => this.dialog.close(), 'sessions-close'));
    document.body.append(this.dialog);
  }

  private async open(): Promise<void> {
    this.message.textContent = '';
    this.message.className = '';
    this.dialog.showModal();
    await Promise.all([this.listSessions(), this.listLabs()]);
  }

  private async listSessions(): Promise<void> {
    try {
      const rows = await call('sessions', undefined);
      const head = el('tr', {}, el('th', { text: 'session' }), el('th', { text: 'topology' }), el('th', { text: 'state' }), el('th', { text: 'hosts' }), el('th'));
      this.sessions.replaceChildren(
        head,
        ...rows.map((s) => {
          const show = s.current ? el('span', { text: 'shown' }) : button('Show', () => this.select(s.dir));
          const tr = el('tr', {}, el('td', { text: s.dir }), el('td', { text: s.topology }), el('td', { text: s.phase }), el('td', { text: String(s.hosts) }), el('td', {}, show));
          tr.dataset.dir = s.dir;
          return tr;
        }),
      );
    } catch (e) {
      this.error((e as Error).message);
    }
  }

  private async listLabs(): Promise<void> {
    try {
      const { folder, files } = await call('labs', undefined);
      this.labs.replaceChildren(
        el('caption', { text: folder }),
        ...files.map((f) => {
          const tr = el('tr', {}, el('td', { text: f.name }), el('td', { text: f.kind }), el('td', {}, button('Start', () => this.start(f.name))));
          tr.dataset.file = f.name;
          return tr;
        }),
      );
    } catch (e) {
      this.labs.replaceChildren(el('caption', { text: (e as Error).message }));
    }
  }

  private select(dir: string): void {
    this.dialog.close();
    showSession(dir);
  }

  private async start(file: string): Promise<void> {
    this.message.className = '';
    this.message.textContent = `starting ${file}…`;
    try {
      const { dir } = await call('labStart', { file });
      this.dialog.close();
      this.say(`${file} started in ${dir}`);
      showSession(dir);
    } catch (e) {
      this.error((e as Error).message);
    }
  }

  private async save(): Promise<void> {
    this.say('saving the session…');
    try {
      const res = await send('save', {});
      const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'session.tgz';
      await download(res, name);
      this.say(`session saved as ${name}`);
    } catch (e) {
      this.say((e as Error).message, true);
    }
  }

  private error(text: string): void {
    this.message.textContent = text;
    this.message.className = 'error';
  }
}
