import { connect, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';
import { LineReader } from '../process/lines.js';
import { MAX_MGMT_COMMAND, MGMT_READ_SIZE } from './mgmt-commands.js';
import { MGMT_PROMPT, MGMT_SUCCESS, parseMgmtReply, type MgmtReply } from './mgmt-protocol.js';

/** A connection to a vde_switch management socket (`<switch>.mgmt`), one command at a time. */
export class MgmtClient {
  /** What the switch sent and was not parsed yet; replies end with a prompt, not a newline, hence append/text/skip. */
  private readonly input: LineReader;
  /** Why this side closed the connection, if it did for a reason of its own. */
  private failure?: QemunetError;
  private waiting?: () => void;

  private constructor(
    private readonly socket: Socket,
    private readonly prompt: string,
    private readonly switchName: string,
  ) {
    this.input = new LineReader(`the management console of switch ${switchName}`);
    socket.on('data', (d: Buffer) => {
      try {
        this.input.append(d);
      } catch (e) {
        this.failure = e as QemunetError;
        socket.destroy();
      }
      this.waiting?.();
    });
    socket.on('close', () => this.waiting?.());
    socket.on('error', () => {});
  }

  static async connect(path: string, switchName: string, prompt = MGMT_PROMPT): Promise<MgmtClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', (e: NodeJS.ErrnoException) => reject(new QemunetError('SWITCH_UNREACHABLE', `cannot reach the management console of switch ${switchName} (${path}): ${e.code}`)));
    });
    const client = new MgmtClient(socket, prompt, switchName);
    await client.until(() => client.input.text.includes(prompt));
    client.input.skip(client.input.text.indexOf(prompt) + prompt.length);
    return client;
  }

  async send(command: string): Promise<MgmtReply> {
    if (command.includes('\n')) throw new QemunetError('SWITCH_COMMAND', `a switch command is one line: ${JSON.stringify(command)}`);
    // vde_switch would run the bytes past one read as a second command of their own.
    if (Buffer.byteLength(command) > MAX_MGMT_COMMAND) throw new QemunetError('SWITCH_COMMAND', `a switch command is at most ${MAX_MGMT_COMMAND} bytes (vde_switch reads ${MGMT_READ_SIZE} at a time and would run the rest as a command of its own); this one is ${Buffer.byteLength(command)}: ${JSON.stringify(command.slice(0, 40))}...`);
    this.socket.write(`${command}\n`);
    let parsed: ReturnType<typeof parseMgmtReply>;
    await this.until(() => (parsed = parseMgmtReply(this.input.text, this.prompt)) !== undefined);
    this.input.skip(this.input.text.length - parsed!.rest.length);
    return parsed!.reply;
  }

  /**
   * One command that must succeed: a refusal throws, naming the switch, the command and the switch's
   * answer; `at` says where the command came from (`file:line: `), `note` why (` (from the topology's VLANs)`).
   */
  async sendChecked(command: string, where: { at?: string; note?: string } = {}): Promise<void> {
    const r = await this.send(command);
    if (r.code !== MGMT_SUCCESS) throw new QemunetError('SWITCH_COMMAND', `${where.at ?? ''}switch ${this.switchName} refused "${command}"${where.note ?? ''}: ${r.code} ${r.message}`);
  }

  /** Commands in order; the first the switch refuses stops them. */
  async sendAll(commands: readonly string[]): Promise<void> {
    for (const command of commands) await this.sendChecked(command);
  }

  close(): void {
    this.socket.destroy();
  }

  private async until(done: () => boolean, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.socket.destroyed) throw this.failure ?? new QemunetError('SWITCH_UNREACHABLE', 'the switch closed its management connection');
      if (Date.now() > deadline) throw new QemunetError('SWITCH_TIMEOUT', 'the switch did not answer within 10 s');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
  }
}
