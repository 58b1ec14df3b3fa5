/**
 * The help text of `qemunet` (printed by `qemunet --help`), the one source of the man page and of
 * the completion's commands and options: each line is `  SYNOPSIS  summary`.
 */
export const USAGE = `usage: qemunet COMMAND ...
  up TOPOLOGY|DEMO [options]     start a session (qemunet up --help lists the options; DEMO: a shipped demo, e.g. lan)
  -t TOPOLOGY [options]          the same, in QemuNet's form (-s ARCHIVE, -S DIR, -l/-L SYS, -D SYS too)
  down [--session DIR]           stop a session
  ls [--all] [--json]            list sessions
  status [--session DIR] [--json]  hosts, states, switch ports, consoles
  console HOST [--session DIR]   attach to a host's serial console (Ctrl-] detaches)
  exec HOST [--session DIR] [--timeout SECONDS] -- COMMAND [ARGS...]  run a command in a guest
  save [--session DIR] OUT.tgz   save a session (running or stopped); restore with up --from / -s
  restart HOST [--session DIR]   start a crashed or powered-off host again, on the same switch ports
  export virtualbox HOST [--session DIR]  VBoxManage commands for a VirtualBox VM on the session's switches (untested)
  switch SW [--session DIR] [-- COMMAND]  a switch's management console, or one command (port/allprint...)
  link HOST:ethN [up|down] [--delay 40ms[+10ms]] [--loss 10%] [--dup 1%] [--bandwidth 10mbit] [--mtu 1400] [--session DIR]  show or set a NIC's link and faults
  capture HOST:ethN -w FILE|- [--duration SECONDS] [--session DIR]  pcap of a NIC's frames until Ctrl-C or --duration
  web [--session DIR] [--labs DIR] [--port N] [--listen ADDR] [--allow-remote] [--open] [--until-stopped]  the session in a browser: live graph, consoles, link actions
  image build [tiny|debian] [--force]   build a built-in guest image
  image list [--json] [-c FILE]  list known systems and the state of their files
  image pull NAME [-c FILE]      download a system's image from its URL[..] (QemuNet's -D)
  image rm NAME                  remove a built image
  check [--session DIR] [--checks FILE] [--student NAME] [--format text|tap|junit|json] [--out FILE] [--teacher]  run the lab checks in the guests
  check --from ARCHIVE | --class DIR [--jobs N] [--out FILE]  grade a saved session, or a folder of them (a CSV, JSON and JUnit per student)
  doctor [--json]                check this machine for every part qemunet uses, and the command that fixes each
  version [--json]               versions of qemunet, its session protocol, QEMU and vde_switch (also --version)
  completion bash|zsh            a shell completion script: source <(qemunet completion bash)
Commands that act on a session use the only running one when --session is not given.`;

export interface CommandSynopsis {
  /** `image build`, `up`, `-t`. */
  name: string;
  /** The words after the name, as written: `HOST [--session DIR]`. */
  args: string;
  summary: string;
}

/** USAGE's command lines, split: name (one word, two for image and export), arguments, summary. */
export function synopses(usage: string = USAGE): CommandSynopsis[] {
  return usage.split('\n').filter((l) => l.startsWith('  ')).map((line) => {
    const m = /^ {2}(\S.*?) {2,}(\S.*)$/.exec(line);
    const [synopsis, summary] = m ? [m[1]!, m[2]!] : [line.trim(), ''];
    const words = synopsis.split(' ');
    const two = (words[0] === 'image' || words[0] === 'export') && words[1] && /^[a-z]+$/.test(words[1]);
    const name = two ? `${words[0]} ${words[1]}` : words[0]!;
    return { name, args: words.slice(two ? 2 : 1).join(' '), summary };
  });
}
