import { describe, expect, it } from "vitest";
import { conflictMarkers } from "../../../../tools/conflicts/markers.ts";

// Built, not written out, so this file holds no line a conflict check would flag.
const OPEN = `${"<".repeat(7)} HEAD`;
const BASE = `${"|".repeat(7)} base`;
const MID = "=".repeat(7);
const CLOSE = `${">".repeat(7)} main`;

describe("conflictMarkers", () => {
  it.each<[string, string[], number[]]>([
    ["a clean file", ["a", "b"], []],
    ["a conflict", ["a", OPEN, "ours", MID, "theirs", CLOSE, "b"], [2, 4, 6]],
    ["a diff3 conflict", [OPEN, "ours", BASE, "base", MID, "theirs", CLOSE], [1, 3, 5, 7]],
    ["two conflicts", [OPEN, MID, CLOSE, "x", OPEN, MID, CLOSE], [1, 2, 3, 5, 6, 7]],
    ["CRLF lines", [`${OPEN}\r`, `${MID}\r`, `${CLOSE}\r`], [1, 2, 3]],
    ["a marker without a label", ["<".repeat(7), MID, ">".repeat(7)], [1, 2, 3]],
    ["a Markdown heading underline", ["Title", MID, "text"], []],
    ["an underline outside a conflict, after one", [OPEN, CLOSE, "Title", MID], [1, 2]],
    ["an opening marker never closed", ["a", OPEN, MID], [2]],
    ["a stray closing marker", ["a", CLOSE], [2]],
    [
      "eight or indented marker characters",
      ["<".repeat(8), ` ${OPEN}`, `${MID}=`, "x>>>>>>> y"],
      [],
    ],
    ["seven marker characters then text", [`${"<".repeat(7)}x`], []],
  ])("%s", (_, lines, expected) => {
    expect(conflictMarkers(lines.join("\n")).map((m) => m.line)).toEqual(expected);
  });

  it("gives each marker's text", () => {
    expect(conflictMarkers([OPEN, MID, CLOSE].join("\n"))).toEqual([
      { line: 1, text: OPEN },
      { line: 2, text: MID },
      { line: 3, text: CLOSE },
    ]);
  });
});
