import { describe, expect, it } from "vitest";
import { filePath, listPath, parseRoute, repositoryPath } from "./routes.js";

const NAME = "0123456789abcdef".repeat(4);

describe("storage routes", () => {
  it("parse back exactly what the client builds", () => {
    expect(parseRoute(repositoryPath("host-a"))).toEqual({ kind: "repository", repository: "host-a" });
    expect(parseRoute(listPath("host-a", "snapshots"))).toEqual({
      kind: "list",
      repository: "host-a",
      type: "snapshots",
    });
    for (const handle of [
      { type: "data" as const, name: NAME },
      { type: "config" as const, name: "config" },
    ]) {
      expect(parseRoute(filePath("host-a", handle))).toEqual({ kind: "file", repository: "host-a", handle });
    }
  });

  it.each([
    "",
    "/",
    "/v1/repos/",
    "/v1/repos/Host-A",
    "/v1/repos/-a",
    "/v1/repos/a/",
    `/v1/repos/a/config/${NAME}`,
    "/v1/repos/a/keys/config",
    `/v1/repos/a/data/${NAME.toUpperCase()}`,
    `/v1/repos/a/data/${NAME.slice(1)}`,
    `/v1/repos/a/data//${NAME}`,
    `/v1/repos/a/data/${NAME}/`,
    "/v1/repos/a/data",
    "/v1/repos/a/%64ata/",
  ])("refuse %j as invalid_argument", (path) => {
    expect(() => parseRoute(path)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
  });
});
