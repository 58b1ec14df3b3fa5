import type { EventMessage, FaultField, SessionView } from '../protocol.js';
import { FAULT_FIELDS } from '../protocol.js';
import { ConsoleTabs } from './consoles.js';
import { TopologyGraph } from './graph.js';
import { GraphFiles } from './graph-files.js';
import { ScreenTabs } from './screen.js';
import { CapturePanel } from './capture-panel.js';
import { ChecksPanel } from './checks-panel.js';
import { HostPanel } from './host-panel.js';
import { SessionsPanel } from './sessions-panel.js';
import { SwitchPanel } from './switch-panel.js';
import { call, download, send } from './actions-client.js';
import { withSession } from './shown-session.js';
import { hasToken, wsProtocols, wsUrl } from './auth.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let view: SessionView | undefined;
const graph = new TopologyGraph($('graph'));
const tabs = new ConsoleTabs($('tabs'), $('terminals'));
const screens = new ScreenTabs(tabs);
const files = new GraphFiles(graph, (m) => say(m, true));
const checks = new ChecksPanel((m, error) => say(m, error));
$('graph-pane').append(checks.element);
/** What the selection panel acts on: a host name or a NIC reference. */
let selected: { kind: 'host'; host: string } | { kind: 'nic'; nic: string } | { kind: 'switch'; name: string } | undefined;
/** The action panels, kept per host, NIC and switch so their output outlives a redraw. */
const panels = new Map<string, HostPanel | CapturePanel | SwitchPanel>();
function panel<T extends HostPanel | CapturePanel | SwitchPanel>(key: string, make: () => T): T {
  if (!panels.has(key)) panels.set(key, make());
  return panels.get(key) as T;
}

function say(text: string, error = false): void {
  const m = $('message');
  m.textContent = text;
  m.className = error ? 'error' : '';
}


/** Runs a route whose answer is only its success, and says so. */
async function act(done: string, request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
    say(done);
  } catch (e) {
    say((e as Error).message, true);
  }
}

function connectEvents(): void {
  const ws = new WebSocket(wsUrl(withSession('/ws/events')), wsProtocols());
  ws.onmessage = (e: MessageEvent<string>) => {
    const m = JSON.parse(e.data) as EventMessage;
    if (m.t === 'state') render(m.view);
    else say(m.message, true);
  };
  ws.onopen = () => $('conn').classList.remove('offline');
  ws.onclose = () => {
    $('conn').classList.add('offline');
    void send('session', undefined).then(async (r) => {
      if (r.status === 401) say('Not logged in: open the URL that qemunet web printed (it ends with #token=...).', true);
      else if (r.ok) await r.body?.cancel();
    }, () => say('The qemunet web server is gone; the VMs are not affected.', true));
    setTimeout(connectEvents, 1000);
  };
}

function render(v: SessionView): void {
  // Another session was chosen (sessions list, a lab started): consoles and panels start afresh.
  if (view && view.dir !== v.dir) return location.reload();
  view = v;
  $('session').textContent = v.dir;
  $('phase').textContent = v.phase;
  $('phase').className = `phase ${v.phase}`;
  graph.update(v);
  screens.update(v);
  checks.update(v.checks);
  renderSelection();
}

function button(label: string, onClick: () => void | Promise<void>, id?: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  if (id) b.id = id;
  b.addEventListener('click', () => void onClick());
  return b;
}

function renderSelection(): void {
  const box = $('selection');
  box.replaceChildren();
  if (!view || !selected) {
    box.textContent = 'Click a host or a link for its actions; double-click a host for its console.';
    return;
  }
  const title = document.createElement('h3');
  if (selected.kind === 'host') {
    const name = selected.host;
    const h = view.hosts.find((x) => x.name === name);
    if (!h) return;
    title.textContent = `${h.name} (${h.system}): ${h.state}${h.detail ? ` (${h.detail})` : ''}`;
    const actions = panel(`host:${name}`, () => new HostPanel(name, say));
    actions.update(h);
    box.append(title, button('Console', () => tabs.open(name), 'act-console'), actions.element);
  } else if (selected.kind === 'nic') {
    const ref = selected.nic;
    const nic = view.hosts.flatMap((h) => h.nics).find((n) => n.ref === ref);
    if (!nic) return;
    title.textContent = `${ref} → ${nic.switch}:${nic.port} (${nic.mac}): link ${nic.up ? 'up' : 'down'}${nic.faults ? `, ${nic.faults}` : ''}`;
    box.append(
      title,
      button(nic.up ? 'Link down' : 'Link up', () => act(`${ref} link ${nic.up ? 'down' : 'up'}`, () => call('link', { nic: ref, up: !nic.up })), 'act-link'),
      button('Faults…', () => openFaults(ref, nic.faultable), 'act-faults'),
      button('Capture 10 s', () => capture(ref), 'act-capture'),
      panel(`nic:${ref}`, () => new CapturePanel(ref, say)).element,
    );
  } else {
    const name = selected.name;
    const sw = view.switches.find((x) => x.name === name);
    if (!sw) return;
    title.textContent = `${sw.hub ? 'hub' : 'switch'} ${sw.name}: ${sw.state}`;
    box.append(title, ...(sw.hub ? [] : [panel(`switch:${name}`, () => new SwitchPanel(name, say)).element]));
  }
}

function openFaults(nic: string, faultable: boolean): void {
  const dialog = $<HTMLDialogElement>('faults-dialog');
  $('faults-nic').textContent = nic;
  $('faults-note').textContent = faultable ? '' : 'This NIC has no wirefilter (no LINK line, and the session was started without --wire-all or --web) and none can be put in while the session runs: it is on a hub (no VLANs to split) or carries tagged VLANs. The session will refuse faults on it; add "LINK ' + nic + '" to the topology.';
  dialog.dataset.nic = nic;
  dialog.showModal();
}

async function applyFaults(): Promise<void> {
  const dialog = $<HTMLDialogElement>('faults-dialog');
  const faults: Partial<Record<FaultField, string>> = {};
  for (const f of FAULT_FIELDS) {
    const v = $<HTMLInputElement>(`fault-${f}`).value.trim();
    if (v) faults[f] = v;
  }
  try {
    await call('faults', { nic: dialog.dataset.nic ?? '', faults });
    dialog.close();
    say(`faults set on ${dialog.dataset.nic}`);
  } catch (e) {
    $('faults-error').textContent = (e as Error).message;
  }
}

async function capture(nic: string): Promise<void> {
  say(`capturing ${nic} for 10 s…`);
  try {
    await download(await send('capture', { nic, seconds: 10 }), `${nic.replace(':', '-')}.pcap`);
    say(`capture of ${nic} downloaded`);
  } catch (e) {
    say((e as Error).message, true);
  }
}

graph.cy.on('tap', 'node.host', (e) => {
  selected = { kind: 'host', host: e.target.data('host') as string };
  renderSelection();
});
graph.cy.on('tap', 'node.switch, node.hub', (e) => {
  selected = { kind: 'switch', name: (e.target.id() as string).slice('sw:'.length) };
  renderSelection();
});
graph.cy.on('dbltap', 'node.host', (e) => tabs.open(e.target.data('host') as string));
graph.cy.on('tap', 'edge.nic', (e) => {
  selected = { kind: 'nic', nic: e.target.data('nic') as string };
  renderSelection();
});
graph.cy.on('tap', (e) => {
  if (e.target === graph.cy) {
    selected = undefined;
    renderSelection();
  }
});
new SessionsPanel(document.querySelector('header')!, $('stop'), say);
$('open-all').addEventListener('click', () => view && tabs.openAll(view.hosts.map((h) => h.name)));
$('stop').addEventListener('click', () => {
  if (confirm('Stop the session and all its VMs?')) void act('session stopped', () => call('stop', {}));
});
$('split').addEventListener('click', () => {
  tabs.setSplit(!tabs.isSplit);
  $('split').classList.toggle('on', tabs.isSplit);
});
$('export-png').addEventListener('click', () => GraphFiles.download(files.png(), 'qemunet-graph.png'));
$('export-svg').addEventListener('click', () => GraphFiles.download(files.svg(), 'qemunet-graph.svg'));
$('faults-apply').addEventListener('click', () => void applyFaults());
$('faults-cancel').addEventListener('click', () => $<HTMLDialogElement>('faults-dialog').close());

// Tests and the curious reach the graph here (read-only use).
(window as unknown as { qemunet: unknown }).qemunet = { graph: graph.cy, consoleText: (host: string) => tabs.text(host), screen: (host: string) => screens.get(host), consoles: tabs, files, drawTimes: graph.drawTimes };

if (!hasToken()) say('Not logged in: open the URL that qemunet web printed (it ends with #token=...).', true);
void files
  .load()
  .catch(() => {})
  .then(() => {
    renderSelection();
    connectEvents();
  });
