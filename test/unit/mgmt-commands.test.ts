import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLabSwitchCommand, LAB_SWITCH_COMMANDS, resolveMgmtLine, VDE_SWITCH_COMMANDS } from '../../src/switch/mgmt-commands.js';
import { HOST_SIDE_LINES } from '../fixtures/switch-lines.js';

const ALLOWED = "a lab's console may send help, showinfo, ds/showinfo, port/showinfo, port/print, port/allprint, port/create, port/setvlan, port/resetcounter, vlan/create, vlan/remove, vlan/addport, vlan/delport, vlan/print, vlan/allprint, hash/showinfo, hash/print, hash/find, fstp/showinfo, fstp/print, fstp/setfstp, fstp/setedge, fstp/bonus";
const refusedAs = (line: string, runs: string) => `"${line.split(' ')[0]}" runs vde_switch's "${runs}", which acts on the machine, not the lab; ${ALLOWED} (qemunet switch on the machine itself sends any)`;

describe("vde_switch's management console", () => {
  it('resolves a line as vde_switch does: the first command, in menu order, whose path starts it', () => {
    assert.deepEqual(resolveMgmtLine(' \tload/etc/x'), { kind: 'command', command: 'load', args: '/etc/x', glued: true });
    assert.deepEqual(resolveMgmtLine('port/createauto'), { kind: 'command', command: 'port/createauto', args: '', glued: false });
    assert.deepEqual(resolveMgmtLine('port/create 5'), { kind: 'command', command: 'port/create', args: '5', glued: false });
    assert.deepEqual(resolveMgmtLine('vlan/print \t 100'), { kind: 'command', command: 'vlan/print', args: '100', glued: false });
    assert.deepEqual(resolveMgmtLine('  # x'), { kind: 'nothing' });
    assert.deepEqual(resolveMgmtLine(''), { kind: 'nothing' });
    assert.deepEqual(resolveMgmtLine('port'), { kind: 'unknown' });
    assert.deepEqual(resolveMgmtLine('LOAD /x'), { kind: 'unknown' }, 'vde_switch compares case-sensitively');
  });

  it('lets a lab console run its allowed commands as typed, and nothing that resolves elsewhere', () => {
    assert.ok(LAB_SWITCH_COMMANDS.every((c) => VDE_SWITCH_COMMANDS.includes(c)), "every allowed command is one of vde_switch's");
    // An allowed command, typed exactly, runs itself: no command earlier in the menu is a prefix of it.
    for (const c of LAB_SWITCH_COMMANDS) assert.deepEqual(resolveMgmtLine(`${c} 1`), { kind: 'command', command: c, args: '1', glued: false }, c);
    assert.equal(checkLabSwitchCommand('  vlan/create 10 '), 'vlan/create 10');
    assert.equal(checkLabSwitchCommand('port/print'), 'port/print');
    assert.equal(checkLabSwitchCommand('help vlan'), 'help vlan');
  });

  it('refuses every prefix form of the host-side commands, naming the command vde_switch would run', () => {
    for (const [line, runs] of HOST_SIDE_LINES) {
      assert.throws(() => checkLabSwitchCommand(line), { code: 'SWITCH_COMMAND_REFUSED', message: refusedAs(line.trim(), runs) }, line);
    }
  });

  it('refuses glued, unknown, commented, split and multi-line commands', () => {
    const refused = (line: string) => {
      try {
        checkLabSwitchCommand(line);
        return 'accepted';
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
    };
    assert.equal(refused('vlan/printfoo'), 'SWITCH_COMMAND_REFUSED: "vlan/printfoo" is not a command: write "vlan/print" and a space before its arguments');
    assert.equal(refused('helpshutdown'), 'SWITCH_COMMAND_REFUSED: "helpshutdown" is not a command: write "help" and a space before its arguments');
    assert.equal(refused('port'), `SWITCH_COMMAND_REFUSED: "port" is not a vde_switch command; ${ALLOWED}`);
    assert.equal(refused('# shutdown'), 'SWITCH_COMMAND_REFUSED: the management command is a comment; try "help" or "vlan/print"');
    // vde_switch reads 128 bytes at a time, and each read is a command: this would run shutdown.
    assert.equal(refused(`vlan/print${' '.repeat(118)}shutdown`), 'SWITCH_COMMAND_REFUSED: the management command is over 126 characters (vde_switch reads 128 bytes at a time and would run the rest as a command of its own)');
    assert.equal(refused(`vlan/print ${'1'.repeat(115)}`), 'accepted', '126 characters fit in one read with the newline');
    assert.equal(refused('vlan/print\nshutdown'), 'SWITCH_COMMAND_REFUSED: the management command is one line of printable ASCII');
    assert.equal(refused('vlan/print\tx'), 'SWITCH_COMMAND_REFUSED: the management command is one line of printable ASCII');
    assert.equal(refused('vlan/print \u0000'), 'SWITCH_COMMAND_REFUSED: the management command is one line of printable ASCII');
    assert.equal(refused('   '), 'SWITCH_COMMAND_REFUSED: the management command is empty; try "help" or "vlan/print"');
  });
});
