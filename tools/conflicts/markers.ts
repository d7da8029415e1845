/**
 * Merge conflict markers left in a file's text: the lines Git writes around a conflict
 * (`<<<<<<< ours`, `||||||| base`, `=======`, `>>>>>>> theirs`). A line of seven `=` alone is
 * also a Markdown heading underline, so it counts only between an opening and a closing marker.
 */
export interface Marker {
  /** 1-based line number. */
  line: number;
  text: string;
}

const OPEN = /^<{7}( |$)/;
const BASE = /^\|{7}( |$)/;
const CLOSE = /^>{7}( |$)/;
const MIDDLE = /^={7}$/;

export function conflictMarkers(content: string): Marker[] {
  const lines = content.split("\n").map((l) => l.replace(/\r$/, ""));
  const found: Marker[] = [];
  /** Middle lines seen since the last opening marker, kept until a closing one confirms them. */
  let pending: Marker[] | undefined;
  lines.forEach((text, i) => {
    const marker = { line: i + 1, text };
    if (OPEN.test(text)) {
      found.push(marker);
      pending = [];
    } else if (CLOSE.test(text)) {
      if (pending) found.push(...pending);
      found.push(marker);
      pending = undefined;
    } else if (BASE.test(text)) {
      found.push(marker);
    } else if (MIDDLE.test(text) && pending) {
      pending.push(marker);
    }
  });
  return found.sort((a, b) => a.line - b.line);
}
