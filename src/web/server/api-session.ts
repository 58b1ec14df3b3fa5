import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemunetError } from '../../errors.js';
import { FAULT_NAMES, isLive, parseLayout, parseLinkSetting, parseNicRef, SessionClient, type SessionState, type StateSubscription, type Topology } from '../../api/index.js';
import { FAULT_FIELDS, type ActionRequest, type Cursor, type GraphLayout, type SessionView } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';
import { ConsoleSizer, type TerminalSize } from './console-size.js';
import { buildView } from './view.js';

/**
 * The web server's session, on the typed session API: the view is pushed whenever the session
 * pushes a state change over its control socket (no polling, no file watching).
 */
export class ApiSession implements WebSession {
  private readonly listeners = new Set<(view: SessionView) => void>();
  private subscription?: Promise<StateSubscription | undefined>;
  private last = '';
  /** Views are published one after the other, in the order the states came. */
  private publishing = Promise.resolve();
  private closed = false;
  private retry?: NodeJS.Timeout;
  private readonly sizer = new ConsoleSizer((host, size) => this.applySize(host, size));

  private constructor(
    private readonly client: SessionClient,
    private readonly topology: Topology | undefined,
  ) {}

  get dir(): string {
    return this.client.dir;
  }

  static async open(dir: string): Promise<ApiSession> {
    const client = await SessionClient.find(dir, { allowStopped: true });
    return new ApiSession(client, await client.topology());
  }

  async view(): Promise<SessionView> {
    return this.viewOf(await this.client.status());
  }

  private viewOf(state: SessionState): Promise<SessionView> {
    return Promise.resolve(buildView(state, this.topology));
  }

  subscribe(onView: (view: SessionView) => void): () => void {
    this.listeners.add(onView);
    if (!this.subscription) this.watch();
    void this.view().then(onView, () => {});
    return () => this.listeners.delete(onView);
  }

  private watch(): void {
    this.subscription = this.client.subscribe((state) => this.publishState(state)).then(
      (sub) => {
        void sub.closed.then(() => this.lost());
        return sub;
      },
      () => {
        this.lost();
        return undefined;
      },
    );
  }

  /**
   * The subscription ended, or could not start: the session's file says why. One that still looks
   * live is stopping (its control socket closes before its last state is written, and a server
   * that believed the "stopping" it last heard never ended with the session) or dropped the
   * connection: it is looked at again each second until it is stopped or answers a new subscription.
   */
  private lost(): void {
    this.publishing = this.publishing
      .then(async () => {
        const state = await this.client.status();
        this.publish(await this.viewOf(state));
        if (isLive(state) && !this.closed) this.retry = setTimeout(() => this.watch(), 1000);
      })
      .catch(() => {});
  }

  private publishState(state: SessionState): void {
    this.publishing = this.publishing.then(() => this.viewOf(state)).then((v) => this.publish(v), () => {});
  }

  private publish(view: SessionView): void {
    const text = JSON.stringify(view);
    if (text === this.last) return;
    this.last = text;
    for (const l of this.listeners) l(view);
  }

  openConsole(host: string, cursor?: Cursor): Promise<ConsoleStream> {
    return this.client.openConsoleStream(host, cursor);
  }

  openScreen(host: string): Promise<Duplex> {
    return this.client.openScreen(host);
  }

  async act(request: ActionRequest): Promise<unknown> {
    switch (request.action) {
      case 'link': {
        await this.nicOf(request.nic);
        await this.client.setLink(request.nic, request.up);
        break;
      }
      case 'faults': {
        // The session records them in its state and pushes it: the view follows from there.
        const settings = faultSettings(request.faults);
        await this.nicOf(request.nic);
        await this.client.setFaults(request.nic, settings);
        break;
      }
      case 'restart':
        await this.hostOf(request.host);
        await this.client.restartHost(request.host);
        break;
      case 'stop':
        await this.client.stop();
        break;
    }
    return undefined;
  }

  async capture(nic: string, seconds: number, signal: AbortSignal): Promise<Buffer> {
    await this.nicOf(nic);
    // A folder of its own per capture: two captures in one millisecond once shared a file name.
    const folder = await mkdtemp(join(this.dir, '.web-capture-'));
    const file = join(folder, `${nic.replace(/[^A-Za-z0-9_.-]/g, '_')}.pcap`);
    await writeFile(file, '');
    try {
      const capture = await this.client.capture(nic, file);
      await sleep(seconds * 1000, undefined, { signal }).catch(() => {});
      await capture.stop();
      return await readFile(file);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  layout(): Promise<GraphLayout | undefined> {
    return this.client.layout();
  }

  saveLayout(layout: unknown): Promise<void> {
    return this.client.saveLayout(parseLayout(layout));
  }

  /**
   * A serial line carries no window size, so the guest is told through its agent: `stty -F
   * /dev/ttyS0` sets the size of the console's tty and the kernel sends SIGWINCH to the shell on it.
   * No byte is typed into the console, and nothing replayed from its history can answer for it.
   */
  resizeConsole(host: string, cols: number, rows: number): void {
    this.sizer.request(host, { cols, rows });
  }

  private async applySize(host: string, { cols, rows }: TerminalSize): Promise<void> {
    const out: Buffer[] = [];
    const io = { onStdout: () => {}, onStderr: (d: Buffer) => out.push(d), timeoutMs: 10000 };
    const code = await this.client.exec(host, ['stty', '-F', '/dev/ttyS0', 'rows', String(rows), 'cols', String(cols)], io);
    if (code !== 0) throw new QemunetError('CONSOLE_RESIZE', `stty in ${host} failed (${code}): ${Buffer.concat(out).toString().trim()}`);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.sizer.close();
    void this.subscription?.then((sub) => sub?.close());
    this.listeners.clear();
  }

  private async hostOf(name: string): Promise<SessionState['hosts'][number]> {
    const state = await this.client.status();
    const h = state.hosts.find((x) => x.name === name);
    if (!h) throw new QemunetError('UNKNOWN_HOST', `this session has no host ${JSON.stringify(name)}; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
    return h;
  }

  private async nicOf(ref: string): Promise<void> {
    const { host, nic } = parseNicRef(ref);
    const h = await this.hostOf(host);
    if (!h.nics[nic]) throw new QemunetError('UNKNOWN_NIC', `host ${h.name} has no eth${nic}; it has ${h.nics.map((n) => n.eth).join(', ') || 'no NIC'}`);
  }
}

/**
 * The dialog's fields as `qemunet link` settings, each checked: delay and jitter make one
 * setting; empty fields are left alone. Throws LINK_SETTING naming the bad field.
 */
export function faultSettings(fields: Partial<Record<string, string>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of Object.keys(fields)) {
    if (!(FAULT_FIELDS as readonly string[]).includes(key)) throw new QemunetError('LINK_SETTING', `unknown fault "${key}"; allowed: ${FAULT_FIELDS.join(', ')}`);
    if (typeof fields[key] !== 'string') throw new QemunetError('LINK_SETTING', `${key}: give a string value`);
  }
  const get = (k: string) => fields[k]?.trim() || undefined;
  const delay = get('delay');
  const jitter = get('jitter');
  if (jitter && !delay) throw new QemunetError('LINK_SETTING', 'jitter needs a delay');
  if (delay) out.push(['delay', jitter ? `${delay}+${jitter}` : delay]);
  for (const k of FAULT_NAMES.filter((n) => n !== 'delay')) {
    const v = get(k);
    if (v) out.push([k, v]);
  }
  for (const [name, value] of out) {
    const r = parseLinkSetting(name, value);
    if (!r.ok) throw new QemunetError('LINK_SETTING', r.problem);
  }
  if (!out.length) throw new QemunetError('LINK_SETTING', `no fault given: fill in at least one of ${FAULT_FIELDS.join(', ')}`);
  return out;
}
