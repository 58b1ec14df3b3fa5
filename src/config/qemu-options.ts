/**
 * QEMUOPT values are word lists that QemuNet hands to bash. Here they are split as bash would
 * split plain words with quotes, and anything that would make bash do more (expansion, pipes,
 * redirection, command separators) is refused instead of silently passed to QEMU.
 */
export type SplitResult = { ok: true; words: string[] } | { ok: false; problem: string };

const SHELL_SPECIAL = new Set(['$', '`', ';', '|', '&', '<', '>', '(', ')', '*', '?', '[', '{', '~']);

export function splitQemuOptions(text: string): SplitResult {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return { ok: false, problem: `unterminated ${c} quote` };
      const inner = text.slice(i + 1, end);
      if (c === '"' && /[$`\\]/.test(inner)) return { ok: false, problem: `"${inner}": expansions are not supported` };
      word = (word ?? '') + inner;
      i = end;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { ok: false, problem: 'a trailing backslash' };
      word = (word ?? '') + text[++i];
    } else if (SHELL_SPECIAL.has(c)) {
      return { ok: false, problem: `the shell character ${c} is not supported (write plain QEMU options)` };
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return { ok: true, words };
}

/** `-cpu host` needs KVM or HVF; under TCG QEMU refuses to start, so it is dropped there. */
export function withoutCpuHost(words: readonly string[]): { words: string[]; dropped: boolean } {
  const out: string[] = [];
  let dropped = false;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-cpu' && (words[i + 1] === 'host' || words[i + 1]?.startsWith('host,'))) {
      dropped = true;
      i++;
    } else out.push(words[i]!);
  }
  return { words: out, dropped };
}

/** Whether the options already choose the memory size (then qemunet does not add its own -m). */
export function setsMemory(words: readonly string[]): boolean {
  return words.includes('-m');
}
