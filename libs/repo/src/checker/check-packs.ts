import type { PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import type { CheckState } from "./check-state.js";
import { expectedPackSize } from "./expected-pack-size.js";

/** Compares the pack files present with the indexed ones: missing packs, wrong sizes, packs no index lists. */
export async function checkPacks(repo: Repository, state: CheckState): Promise<void> {
  for await (const f of repo.backend.list("data")) state.packSizes.set(f.name, f.size);
  const total = state.packs.size;
  let done = 0;
  for (const [pack, entries] of state.packs) {
    const size = state.packSizes.get(pack);
    if (size === undefined) {
      const blobs = entries.map((e) => e.id);
      state.markBad(pack, blobs);
      state.error({
        kind: "pack_missing",
        file: `data/${pack}`,
        message: `pack ${pack.slice(0, 12)} is listed in the index but does not exist; its ${entries.length} blobs are lost unless stored elsewhere`,
        blobs,
      });
    } else {
      checkSize(state, pack, entries, size);
    }
    state.report.packsChecked++;
    state.onProgress({ phase: "packs", done: ++done, total });
  }
  for (const pack of state.packSizes.keys()) {
    if (state.packs.has(pack)) continue;
    state.warning({
      kind: "unreferenced_pack",
      file: `data/${pack}`,
      message: `pack ${pack.slice(0, 12)} is not listed in any index (a writer stopped before writing its index, or an index is lost); prune removes it`,
    });
  }
}

function checkSize(state: CheckState, pack: string, entries: readonly PackEntry[], size: number): void {
  const expected = expectedPackSize(entries);
  if (size === expected) return;
  // Blobs beyond the end of the file are certainly gone; the others need --read-data to tell.
  const cut = entries.filter((e) => e.offset + e.length > size).map((e) => e.id);
  state.markBad(pack, cut);
  state.error({
    kind: "pack_size",
    file: `data/${pack}`,
    message: `pack ${pack.slice(0, 12)} is ${size} bytes but its index entries imply ${expected}${
      cut.length ? `; ${cut.length} of its ${entries.length} blobs lie beyond its end` : ""
    }; read it with --read-data to verify the rest`,
    blobs: cut,
  });
}
