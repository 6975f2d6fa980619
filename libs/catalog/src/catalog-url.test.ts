import { describe, expect, it } from "vitest";
import { parseCatalogUrl } from "./catalog-url.js";
import { UnsupportedUrlError } from "./errors.js";

describe("parseCatalogUrl", () => {
  it("reads a SQLite file path, without query parameters", () => {
    expect(parseCatalogUrl("file:./data/catalog.db?connection_limit=1")).toEqual({
      provider: "sqlite",
      url: "file:./data/catalog.db?connection_limit=1",
      file: "./data/catalog.db",
    });
  });

  it("reads a PostgreSQL URL and its schema", () => {
    expect(parseCatalogUrl("postgres://u@db:5432/pwdr")).toMatchObject({
      provider: "postgres",
      schema: "public",
    });
    expect(parseCatalogUrl("postgresql://u@db/pwdr?schema=catalog")).toMatchObject({ schema: "catalog" });
  });

  it("refuses an in-memory SQLite database", () => {
    expect(() => parseCatalogUrl("file::memory:")).toThrow(UnsupportedUrlError);
  });

  it("refuses other schemes without echoing credentials", () => {
    const error = (() => {
      try {
        return parseCatalogUrl("mysql://admin:s3cret@db/pwdr");
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toMatchObject({ code: "CATALOG_URL_UNSUPPORTED" });
    expect(String(error)).not.toContain("s3cret");
  });
});
