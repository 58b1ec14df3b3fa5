import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { run } from '../../src/process/run.js';
import { launchSwitch, type RunningSwitch } from '../../src/switch/launch.js';
import { checkLabSwitchCommand, VDE_SWITCH_COMMANDS } from '../../src/switch/mgmt-commands.js';
import { vdeSwitchArgv } from '../../src/switch/vde-argv.js';
import { HOST_SIDE_LINES } from '../fixtures/switch-lines.js';
import { suiteDir } from '../helpers/tiny.js';

/** What a raw management connection got for one line: the text up to the next prompt, and whether the switch closed it. */
interface RawAnswer {
  text: string;
  closed: boolean;
}

/**
 * One line sent as bytes to a switch's management socket (no client-side check: the real switch's
 * reading of it is what is tested), and what came back until the next prompt or the close.
 */
function rawLine(mgmt: string, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(mgmt);
    let text = '';
    let greeted = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(bytes.slice(0, 60))}: ${JSON.stringify(text)}`));
    }, 5000);
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (!greeted && text.includes('vde$ ')) {
        greeted = true;
        text = '';
        socket.write(bytes);
      } else if (greeted && text.endsWith('vde$ ')) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => {});
  });
}

/**
 * vde_switch's management console as the real vde_switch reads it: the commands the page must not
 * reach do run for every prefix form of their names (so a first-word deny-list is no guard), and
 * qemunet's table of the switch's commands is the real switch's.
 */
describe('a real vde_switch runs its host-side commands for every prefix form', { timeout: 120000 }, () => {
  const tmp = suiteDir('swcon');
  const switches: RunningSwitch[] = [];
  after(async () => {
    for (const s of switches) await s.stop();
    await tmp.remove();
  });
  let n = 0;
  const start = async () => {
    const name = `s${++n}`;
    const socket = join(tmp.path, `${name}.sock`);
    const mgmt = join(tmp.path, `${name}.mgmt`);
    const sw = await launchSwitch({ name, argv: vdeSwitchArgv({ name, hub: false, socket, mgmt }), socket, logFile: join(tmp.path, `${name}.log`), portsInUse: 0 });
    switches.push(sw);
    return { sw, mgmt };
  };

  test("qemunet's command table is the switch's own, in the order it tries them", async () => {
    const { mgmt } = await start();
    const { text } = await rawLine(mgmt, 'help\n');
    const table = text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('------------')) + 1);
    // Menu headers ("port  ============  PORT STATUS MENU") run nothing; the other rows are commands.
    const listed = table
      .slice(0, table.indexOf('.'))
      .filter((row) => !/^\S+\s+============/.test(row))
      .map((row) => row.split(/\s/)[0]!);
    assert.deepEqual(listed, [...VDE_SWITCH_COMMANDS]);
  });

  test('every host-side line runs a command (the switch answers it, not with 1038 "Function not implemented"), and qemunet refuses each', async () => {
    const { mgmt } = await start();
    for (const [line] of HOST_SIDE_LINES) {
      assert.throws(() => checkLabSwitchCommand(line), { code: 'SWITCH_COMMAND_REFUSED' }, line);
      if (/^\s*(shutdown|logout|port\/setnumports|port\/sethub|port\/remove|hash\/set)/.test(line)) continue; // below, each on a switch of its own
      const answer = await rawLine(mgmt, `${line}\n`);
      assert.equal(answer.closed, false, line);
      // The command's own status is the last one (load prints one per line of the file it runs).
      assert.notEqual(answer.text.match(/^\d{4} .*$/gm)?.pop(), '1038 Function not implemented', `${line}: ${answer.text}`);
    }
    assert.match((await rawLine(mgmt, 'nosuchcommand\n')).text, /^1038 Function not implemented$/m, 'the switch does say 1038 for a line no command starts');
  });

  test('load/PATH runs a file of the machine as a script, shows its every line, and answers whether a file exists', async () => {
    const { mgmt } = await start();
    const script = join(tmp.path, 'script');
    await writeFile(script, 'showinfo\nsecret: 0xC0FFEE\n', { mode: 0o600 });
    const ran = await rawLine(mgmt, `load${script}\n`);
    assert.ok(ran.text.includes(`vde[${script}]: showinfo\n`), ran.text);
    assert.match(ran.text, /VDE switch V\./, 'showinfo ran');
    assert.ok(ran.text.includes(`vde[${script}]: secret: 0xC0FFEE\n`), 'a file only its owner may read comes back, line by line');
    assert.match((await rawLine(mgmt, 'load/nonexistent/file\n')).text, /^1002 No such file or directory$/m);
    assert.match((await rawLine(mgmt, 'loadx\n')).text, /^1002 No such file or directory$/m);
  });

  test("plugin/add runs a shared object's constructor inside the switch, as its user", async () => {
    const { mgmt } = await start();
    const marker = join(tmp.path, 'plugin-ran');
    const source = join(tmp.path, 'evil.c');
    const library = join(tmp.path, 'evil.so');
    await writeFile(source, `#include <stdio.h>\n#include <unistd.h>\n__attribute__((constructor)) static void ran(void) { FILE *f = fopen("${marker}", "w"); if (f) { fprintf(f, "uid=%d", (int)getuid()); fclose(f); } }\n`);
    await run('cc', ['-shared', '-fPIC', '-o', library, source]);
    await rawLine(mgmt, `plugin/add${library}\n`);
    assert.equal(await readFile(marker, 'utf8'), `uid=${process.getuid!()}`);
  });

  test('shutdown-please ends the switch; logoutX ends the console', async () => {
    const { sw, mgmt } = await start();
    const logout = await rawLine(mgmt, 'logoutX\n');
    assert.deepEqual([logout.closed, logout.text], [true, '9999 END OF SESSION']);
    assert.equal(sw.running, true);
    await rawLine(mgmt, 'shutdown-please\n');
    await sw.exited;
    assert.equal(sw.running, false);
  });

  test('a line over one read (128 bytes) is two commands: the bytes past it run on their own', async () => {
    const { mgmt } = await start();
    const line = `vlan/print${' '.repeat(118)}showinfo`;
    assert.throws(() => checkLabSwitchCommand(line), { code: 'SWITCH_COMMAND_REFUSED', message: /over 126 characters/ });
    // Greeting, vlan/print's answer, then showinfo's: three prompts.
    const answers = await new Promise<string>((resolve) => {
      const socket = connect(mgmt);
      let text = '';
      let sent = false;
      socket.on('data', (d: Buffer) => {
        text += d.toString();
        const prompts = text.split('vde$ ').length - 1;
        if (prompts === 1 && !sent) {
          sent = true;
          socket.write(`${line}\n`);
        }
        if (prompts === 3) {
          socket.destroy();
          resolve(text);
        }
      });
    });
    assert.match(answers, /VLAN 0000[^]*1000 Success[^]*pid \d+ MAC/, answers);
  });
});
