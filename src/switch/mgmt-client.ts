import { connect, type Socket } from 'node:net';
import { QemunetError } from '../errors.js';
import { MGMT_PROMPT, parseMgmtReply, type MgmtReply } from './mgmt-protocol.js';

/** A connection to a vde_switch management socket (`<switch>.mgmt`), one command at a time. */
export class MgmtClient {
  private buffer = '';
  private waiting?: () => void;

  private constructor(
    private readonly socket: Socket,
    private readonly prompt: string,
  ) {
    socket.on('data', (d) => {
      this.buffer += d.toString();
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
    const client = new MgmtClient(socket, prompt);
    await client.until(() => client.buffer.includes(prompt));
    client.buffer = client.buffer.slice(client.buffer.indexOf(prompt) + prompt.length);
    return client;
  }

  async send(command: string): Promise<MgmtReply> {
    if (command.includes('\n')) throw new QemunetError('SWITCH_COMMAND', `a switch command is one line: ${JSON.stringify(command)}`);
    this.socket.write(`${command}\n`);
    let parsed: ReturnType<typeof parseMgmtReply>;
    await this.until(() => (parsed = parseMgmtReply(this.buffer, this.prompt)) !== undefined);
    this.buffer = parsed!.rest;
    return parsed!.reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private async until(done: () => boolean, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.socket.destroyed) throw new QemunetError('SWITCH_UNREACHABLE', 'the switch closed its management connection');
      if (Date.now() > deadline) throw new QemunetError('SWITCH_TIMEOUT', 'the switch did not answer within 10 s');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
  }
}
