import { describe, expect, it } from "vitest";
import { redact } from "./pg-redact.js";

describe("redact", () => {
  it("removes the connection's password wherever it appears", () => {
    expect(redact("auth failed for s3cr3t and s3cr3t", { password: "s3cr3t" })).toBe(
      "auth failed for *** and ***",
    );
  });

  it("removes passwords in URLs and keyword connection strings", () => {
    expect(redact("postgres://app:hunter2@db:5432/x")).toBe("postgres://app:***@db:5432/x");
    expect(redact("host=db password='a b' user=x")).toBe("host=db password=*** user=x");
    expect(redact("password=hunter2 dbname=x")).toBe("password=*** dbname=x");
  });
});
