import { PcapReader, type PacketSummary } from '../pcap-summary.js';
import { button, call, el, send, type Say } from './actions-client.js';

/** Lines the live list keeps; older ones scroll away. */
const KEEP_LINES = 1000;

/**
 * A NIC's capture actions besides the download: the command line that streams it live into
 * Wireshark, and an in-page live list of one-line packet summaries (the page parses the pcap
 * stream the server relays) with a stop button. One panel per NIC, kept while the page lives.
 */
export class CapturePanel {
  readonly element: HTMLElement;
  private readonly live: HTMLButtonElement;
  private readonly list = el('ol', { id: 'packet-list', className: 'packets' });
  private readonly command = el('code', { id: 'wireshark-command' });
  private running?: AbortController;

  constructor(
    private readonly nic: string,
    private readonly say: Say,
  ) {
    this.live = button('Live packets', () => (this.running ? this.stop() : this.start()), 'act-live');
    this.element = el('div', { className: 'capture-panel' }, el('div', {}, button('Wireshark command', () => this.wireshark(), 'act-wireshark'), this.live), this.command, this.list);
  }

  private async wireshark(): Promise<void> {
    try {
      const { command } = await call('captureCommand', { nic: this.nic });
      this.command.textContent = command;
      await navigator.clipboard.writeText(command).then(
        () => this.say('the Wireshark command is copied: paste it in a terminal of this machine'),
        () => this.say('copy the Wireshark command below into a terminal of this machine'),
      );
    } catch (e) {
      this.say((e as Error).message, true);
    }
  }

  private async start(): Promise<void> {
    const abort = new AbortController();
    this.running = abort;
    this.live.textContent = 'Stop';
    this.list.replaceChildren();
    const reader = new PcapReader();
    try {
      const res = await send('captureLive', { nic: this.nic }, abort.signal);
      if (!res.ok || !res.body) throw new Error(((await res.json().catch(() => ({ message: `${res.status}` }))) as { message: string }).message);
      this.say(`capturing ${this.nic} live`);
      const stream = res.body.getReader();
      for (;;) {
        const { done, value } = await stream.read();
        if (done) break;
        this.show(reader.push(value));
      }
      if (!abort.signal.aborted) this.say(`the capture of ${this.nic} ended`);
    } catch (e) {
      if (!abort.signal.aborted) this.say((e as Error).message, true);
    } finally {
      if (this.running === abort) this.running = undefined;
      this.live.textContent = 'Live packets';
    }
  }

  private stop(): void {
    this.running?.abort();
    this.running = undefined;
    this.live.textContent = 'Live packets';
    this.say(`capture of ${this.nic} stopped`);
  }

  private show(packets: PacketSummary[]): void {
    for (const p of packets) this.list.append(el('li', { text: `${p.time.toFixed(3)}  ${p.text}` }));
    while (this.list.childElementCount > KEEP_LINES) this.list.firstElementChild?.remove();
    this.list.scrollTop = this.list.scrollHeight;
  }
}
