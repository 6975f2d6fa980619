// A backup process that kills itself with SIGKILL at a chosen point, for the
// crash-consistency test. Usage (env): REPO, PASSWORD, SOURCE, CRASH_AT
// CRASH_AT = "<type>:<n>:<before|partial>": on the nth save of that file
// type, die before writing anything, or after writing half of the bytes to a
// temporary file (as a crash inside write() would leave it). Packs are
// staged: on the nth staged pack, die after its first append ("partial") or
// with all of it in the temporary file, just before the commit ("before").
// Without CRASH_AT it backs up normally and prints the result as JSON.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Backup } from "../archiver/archiver.js";
import type { Backend, FileHandle, FileType, StagedFile } from "../backend/backend.js";
import { LocalBackend } from "../backend/local-backend.js";
import { Repository } from "../repository.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`crash-backup needs ${name}`);
  return value;
}
const REPO = env("REPO");
const PASSWORD = env("PASSWORD");
const SOURCE = env("SOURCE");
const CRASH_AT = process.env.CRASH_AT;

class CrashingBackend extends LocalBackend {
  #count = 0;
  constructor(
    root: string,
    private readonly type: string,
    private readonly nth: number,
    private readonly mode: string,
  ) {
    super(root);
  }

  override async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (handle.type === this.type && ++this.#count === this.nth) {
      if (this.mode === "partial") {
        const bytes = Buffer.concat(data instanceof Uint8Array ? [data] : (data as Uint8Array[]));
        const temp = join(dirname(this.path(handle)), `.tmp-${randomBytes(8).toString("hex")}`);
        writeFileSync(temp, bytes.subarray(0, bytes.length >> 1));
      }
      process.kill(process.pid, "SIGKILL");
    }
    return super.save(handle, data);
  }

  override async stage(type: FileType): Promise<StagedFile> {
    const file = await super.stage(type);
    if (type !== this.type || ++this.#count !== this.nth) return file;
    return {
      append: async (parts) => {
        await file.append(parts);
        if (this.mode === "partial") process.kill(process.pid, "SIGKILL");
      },
      commit: async () => {
        process.kill(process.pid, "SIGKILL");
      },
      discard: () => file.discard(),
    };
  }
}

function backend(): Backend {
  if (!CRASH_AT) return new LocalBackend(REPO);
  const [type, nth, mode] = CRASH_AT.split(":");
  return new CrashingBackend(REPO, type as string, Number(nth), mode as string);
}

const repo = await Repository.open(backend(), PASSWORD);
const backup = await Backup.start(repo, { host: "crash-test" });
await backup.addPath(SOURCE);
const result = await backup.finish();
await repo.close();
process.stdout.write(`${JSON.stringify({ id: result.id, added: result.snapshot.summary.addedBytes })}\n`);
