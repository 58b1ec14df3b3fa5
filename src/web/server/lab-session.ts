import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openResumable } from '../../console/cursor.js';
import { QemunetError } from '../../errors.js';
import { restartHost, sessionPaths, sessionStatus, setLink, setLinkFaults, startCapture, down } from '../../lab/sessions.js';
import type { SessionState } from '../../lab/state.js';
import { parseLinkSetting, type LinkFaults } from '../../topology/link-syntax.js';
import { parseTopology } from '../../topology/parse.js';
import { resolveTopology } from '../../topology/resolve.js';
import type { Topology } from '../../topology/types.js';
import type { ActionRequest, Cursor, SessionView } from '../protocol.js';
import type { ConsoleStream, WebSession } from './session-source.js';
import { buildView } from './view.js';

/** How soon after the state file changes the view is read (changes come in bursts). */
const SETTLE_MS = 25;
/** A state change the watcher missed (a filesystem without inotify) still shows within this. */
const FALLBACK_POLL_MS = 2000;

/**
 * Stopgap implementation of WebSession on the lab's session functions, until the typed session
 * API (src/api/) is on main: the state file is watched with inotify (fs.watch), and the view is
 * pushed when it changes.
 */
export class LabSession implements WebSession {
  private readonly faults = new Map<string, LinkFaults>();
  private readonly listeners = new Set<(view: SessionView) => void>();
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private last = '';

  private constructor(
    readonly dir: string,
    private readonly topology: Topology | undefined,
  ) {
    for (const l of topology?.links ?? []) this.faults.set(`${l.host}:eth${l.nic}`, l.faults);
  }

  static async open(dir: string): Promise<LabSession> {
    await sessionStatus(dir);
    const file = sessionPaths(dir).topology;
    const topology = await readFile(file, 'utf8').then(
      (text) => resolveTopology(parseTopology(text, file)),
      () => undefined,
    );
    return new LabSession(dir, topology);
  }

  async view(): Promise<SessionView> {
    return buildView(await sessionStatus(this.dir), this.topology, this.faults);
  }

  subscribe(onView: (view: SessionView) => void): () => void {
    this.listeners.add(onView);
    if (!this.watcher) {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name === 'qemunet-state.json') this.changed();
      });
      this.watcher.on('error', () => {});
      this.poll = setInterval(() => this.changed(), FALLBACK_POLL_MS);
    }
    void this.view().then(onView, () => {});
    return () => this.listeners.delete(onView);
  }

  private changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.view().then((v) => this.publish(v), () => {});
    }, SETTLE_MS);
  }

  private publish(view: SessionView): void {
    const text = JSON.stringify(view);
    if (text === this.last) return;
    this.last = text;
    for (const l of this.listeners) l(view);
  }

  async openConsole(host: string, cursor?: Cursor): Promise<ConsoleStream> {
    await this.hostOf(host);
    return openResumable(sessionPaths(this.dir).host(host).consoleResume, cursor);
  }

  async act(request: ActionRequest): Promise<unknown> {
    switch (request.action) {
      case 'link': {
        await this.nicOf(request.nic);
        await setLink(this.dir, request.nic, request.up);
        break;
      }
      case 'faults': {
        const settings = faultSettings(request.faults);
        await this.nicOf(request.nic);
        await setLinkFaults(this.dir, request.nic, settings);
        let faults: LinkFaults = { ...this.faults.get(request.nic) };
        for (const [name, value] of settings) {
          const r = parseLinkSetting(name, value, faults);
          if (r.ok) faults = r.faults;
        }
        this.faults.set(request.nic, faults);
        break;
      }
      case 'restart':
        await this.hostOf(request.host);
        await restartHost(this.dir, request.host);
        break;
      case 'stop':
        await down(this.dir);
        break;
    }
    this.changed();
    return undefined;
  }

  async capture(nic: string, seconds: number, signal: AbortSignal): Promise<Buffer> {
    await this.nicOf(nic);
    const file = join(this.dir, `.web-capture-${process.pid}-${Date.now()}.pcap`);
    await writeFile(file, '');
    try {
      const capture = await startCapture(this.dir, nic, file);
      await sleep(seconds * 1000, undefined, { signal }).catch(() => {});
      await capture.stop();
      return await readFile(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async hostOf(name: string): Promise<SessionState['hosts'][number]> {
    const state = await sessionStatus(this.dir);
    const h = state.hosts.find((x) => x.name === name);
    if (!h) throw new QemunetError('UNKNOWN_HOST', `this session has no host ${JSON.stringify(name)}; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
    return h;
  }

  private async nicOf(ref: string): Promise<void> {
    const m = /^([^:]+):eth(\d+)$/.exec(ref);
    if (!m) throw new QemunetError('USAGE', `${JSON.stringify(ref)} does not name a NIC; write HOST:ethN`);
    const h = await this.hostOf(m[1]!);
    if (!h.nics[Number(m[2])]) throw new QemunetError('UNKNOWN_NIC', `host ${h.name} has no eth${m[2]}; it has ${h.nics.map((n) => n.eth).join(', ') || 'no NIC'}`);
  }
}

/**
 * The dialog's fields as `qemunet link` settings, each checked: delay and jitter make one
 * setting; empty fields are left alone. Throws LINK_SETTING naming the bad field.
 */
export function faultSettings(fields: Partial<Record<string, string>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const allowed = ['delay', 'jitter', 'loss', 'dup', 'bandwidth', 'mtu'];
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) throw new QemunetError('LINK_SETTING', `unknown fault "${key}"; allowed: ${allowed.join(', ')}`);
    if (typeof fields[key] !== 'string') throw new QemunetError('LINK_SETTING', `${key}: give a string value`);
  }
  const get = (k: string) => fields[k]?.trim() || undefined;
  const delay = get('delay');
  const jitter = get('jitter');
  if (jitter && !delay) throw new QemunetError('LINK_SETTING', 'jitter needs a delay');
  if (delay) out.push(['delay', jitter ? `${delay}+${jitter}` : delay]);
  for (const k of ['loss', 'dup', 'bandwidth', 'mtu']) {
    const v = get(k);
    if (v) out.push([k, v]);
  }
  let faults: LinkFaults = {};
  for (const [name, value] of out) {
    const r = parseLinkSetting(name, value, faults);
    if (!r.ok) throw new QemunetError('LINK_SETTING', r.problem);
    faults = r.faults;
  }
  if (!out.length) throw new QemunetError('LINK_SETTING', 'no fault given: fill in at least one of delay, jitter, loss, dup, bandwidth, mtu');
  return out;
}
