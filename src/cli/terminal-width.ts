/**
 * Lines cut to a terminal's width, measured as the terminal shows them: escape sequences take no
 * column, combining marks none, East Asian wide characters and emoji two. A line longer than the
 * terminal would wrap onto a second row, and a redraw that moves the cursor up one row per line
 * would leave that row behind.
 */

/** CSI (colours, cursor), OSC (titles, links) and two-byte escape sequences. */
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/y;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cc}\u200b-\u200f\u2060\ufe00-\ufe0f]/u;
const EMOJI = /\p{Emoji_Presentation}/u;
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

/** Columns one character (a code point) takes. */
export function charWidth(ch: string): 0 | 1 | 2 {
  if (ZERO_WIDTH.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  if (EMOJI.test(ch) || WIDE.some(([lo, hi]) => cp >= lo && cp <= hi)) return 2;
  return 1;
}

/**
 * The line cut to `columns`. Escape sequences after the cut are kept (they take no room), so a
 * colour that the line resets at its end is still reset.
 */
export function fitLine(line: string, columns: number): string {
  let out = '';
  let used = 0;
  let full = false;
  for (let i = 0; i < line.length; ) {
    ESCAPE.lastIndex = i;
    const esc = ESCAPE.exec(line);
    if (esc) {
      out += esc[0];
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    i += ch.length;
    const w = charWidth(ch);
    if (full || used + w > columns) {
      // A wide character that does not fit whole is left out, and so is everything after it.
      full = true;
      continue;
    }
    out += ch;
    used += w;
  }
  return out;
}

/** Each line of `text` cut to the terminal's width; unchanged when the width is not known. */
export function fitToWidth(text: string, columns: number | undefined): string[] {
  const lines = text.split('\n');
  return columns && columns > 0 ? lines.map((l) => fitLine(l, columns)) : lines;
}
