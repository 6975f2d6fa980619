import { describe, expect, it } from "vitest";
import { craftedNode } from "../test-support/craft-snapshot.js";
import { encodeName, nodeNameBytes, nodeNameKey, type TreeNode } from "./tree-node.js";

/** A file node named as the archiver names it: `name` when the bytes are UTF-8, `nameB64` otherwise. */
function named(name: { name: string } | { nameB64: string }): TreeNode {
  const { name: _placeholder, ...node } = craftedNode("placeholder", "file");
  return { ...node, ...name };
}

describe("node name keys", () => {
  it("is the name's bytes as latin1, for plain, unicode and non-UTF-8 names alike", () => {
    const names = [
      Buffer.from("scan-0001.json"),
      Buffer.from("with space ~!"),
      Buffer.from("..."),
      Buffer.from(".hidden"),
      Buffer.from("日本語"),
      Buffer.from("x\ny"),
      Buffer.from([0xff, 0xfe, 0x41]),
    ];
    for (const bytes of names) {
      const node = named(encodeName(bytes));
      expect(nodeNameKey(node)).toBe(bytes.toString("latin1"));
      expect(nodeNameKey(node)).toBe(nodeNameBytes(node).toString("latin1"));
    }
  });

  it("refuses the names nodeNameBytes refuses", () => {
    for (const name of ["", ".", "..", "a/b", "/", "nul\0"]) {
      expect(() => nodeNameKey(named({ name }))).toThrow(/refusing tree entry/);
    }
    expect(() => nodeNameKey(named({ nameB64: Buffer.from("../x").toString("base64") }))).toThrow(
      /refusing tree entry/,
    );
  });
});
