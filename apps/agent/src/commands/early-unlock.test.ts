import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { startEarlyUnlock, takeEarlyUnlock } from "./early-unlock.js";

const PASSWORD = "early unlock password";
const FAST_KDF = { N: 1024, r: 8, p: 1 };

describe("early unlock (started before the CLI loads)", () => {
  let repo: string;
  let keyName: string;

  beforeAll(async () => {
    const dir = await makeTempDir("pwdr-early-unlock-");
    repo = join(dir, "repo");
    keyName = (await Repository.init(new LocalBackend(repo), PASSWORD, { kdf: FAST_KDF })).keyName;
  });

  it("opens the repository named by -r with PWDR_PASSWORD, for that repository and password only, once", async () => {
    await startEarlyUnlock(["backup", "--host", "h", "-r", relative(process.cwd(), repo), "/srv"], {
      PWDR_PASSWORD: PASSWORD,
    });
    expect(takeEarlyUnlock(repo, "another password")).toBeUndefined();

    await startEarlyUnlock(["backup", "-r", repo, "/srv"], { PWDR_PASSWORD: PASSWORD });
    const unlocked = takeEarlyUnlock(repo, PASSWORD);
    expect((await unlocked)?.keyName).toBe(keyName);
    expect(takeEarlyUnlock(repo, PASSWORD)).toBeUndefined();
  });

  it("reads the password file and the repository from the environment", async () => {
    const file = join(repo, "..", "password.txt");
    await writeFile(file, `${PASSWORD}\n`);
    await startEarlyUnlock(["snapshots"], { PWDR_REPOSITORY: repo, PWDR_PASSWORD_FILE: file });
    expect((await takeEarlyUnlock(repo, PASSWORD))?.keyName).toBe(keyName);
    await startEarlyUnlock(["snapshots", "--repo", repo, "--password-file", file], {});
    expect((await takeEarlyUnlock(repo, PASSWORD))?.keyName).toBe(keyName);
  });

  it("hands on the error a wrong password gets, as opening would", async () => {
    await startEarlyUnlock(["check", "-r", repo], { PWDR_PASSWORD: "wrong" });
    await expect(takeEarlyUnlock(repo, "wrong")).rejects.toMatchObject({ code: "wrong_password" });
  });

  it("does nothing without both a repository and a password", async () => {
    await startEarlyUnlock(["check", "-r", repo], {});
    expect(takeEarlyUnlock(repo, PASSWORD)).toBeUndefined();
    await startEarlyUnlock(["check"], { PWDR_PASSWORD: PASSWORD });
    expect(takeEarlyUnlock(repo, PASSWORD)).toBeUndefined();
    await startEarlyUnlock(["check", "-r", repo, "--password-file", join(repo, "no such file")], {});
    expect(takeEarlyUnlock(repo, PASSWORD)).toBeUndefined();
  });
});
