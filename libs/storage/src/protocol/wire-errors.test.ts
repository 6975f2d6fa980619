import { RepoError } from "@pwdr/repo";
import { describe, expect, it } from "vitest";
import { errorFromResponse, statusOf, toWireError } from "./wire-errors.js";

const roundTrip = (err: RepoError) => {
  const wire = toWireError(err);
  return errorFromResponse(statusOf(err.code), Buffer.from(JSON.stringify(wire)), "remote:https://c:1/r");
};

describe("storage wire errors", () => {
  it("bring the server's RepoError back to the client with its code, retry flag and message", () => {
    const full = roundTrip(new RepoError("no_space", "no space left on the repository's disk"));
    expect(full).toMatchObject({ code: "no_space", exitCode: 15, retryable: false });
    expect(full.message).toBe("remote:https://c:1/r: no space left on the repository's disk");
    expect(roundTrip(new RepoError("backend_unavailable", "x"))).toMatchObject({ retryable: true });
    expect(roundTrip(new RepoError("access_denied", "x"))).toMatchObject({ exitCode: 24 });
  });

  it("fall back on the status when the body carries no known code", () => {
    const cases: [number, string][] = [
      [403, "access_denied"],
      [404, "blob_missing"],
      [400, "invalid_argument"],
      [500, "backend_unavailable"],
      [502, "backend_unavailable"],
    ];
    for (const [status, code] of cases) {
      expect(errorFromResponse(status, Buffer.from("<html>proxy</html>"), "here").code).toBe(code);
    }
    const unknown = Buffer.from(JSON.stringify({ error: { code: "made_up", message: "m" } }));
    expect(errorFromResponse(507, unknown, "here").code).toBe("backend_unavailable");
  });
});
