import { describe, expect, it } from "vitest";
import { parseToc, splitPostData } from "./pg-post-data.js";

const LISTING = `;
; Archive created at 2026-11-26 22:40:00 UTC
;     dbname: pw
;
; Selected TOC Entries:
;
3238; 2606 16423 CONSTRAINT public wifi wifi_pkey postgres
3235; 1259 16445 INDEX public wifi_bssid_idx postgres
3236; 1259 16446 INDEX public gps_time_idx postgres
3240; 2606 16500 CONSTRAINT public Device Notes Device Notes_key postgres
3244; 2606 16424 FK CONSTRAINT public wifi wifi_session_fkey postgres
3250; 2620 16600 TRIGGER public gps stamp postgres
`;

describe("post-data plan", () => {
  it("parses pg_restore's list into lines and object ids, skipping comments", () => {
    const entries = parseToc(LISTING);
    expect(entries.map((e) => e.objectKey)).toEqual([
      "2606 16423",
      "1259 16445",
      "1259 16446",
      "2606 16500",
      "2606 16424",
      "2620 16600",
    ]);
    expect(entries[3]?.line).toBe(
      "3240; 2606 16500 CONSTRAINT public Device Notes Device Notes_key postgres",
    );
  });

  it("gives each table the objects its manifest lists and leaves the rest for last", () => {
    const split = splitPostData(parseToc(LISTING), [
      { path: "/wifi", builds: ["2606 16423", "1259 16445", "1259 99999"] },
      { path: "/notes", builds: ["2606 16500"] },
      { path: "/gps", builds: [] },
    ]);
    expect([...split.byTable].map(([path, e]) => [path, e.map((x) => x.objectKey)])).toEqual([
      ["/wifi", ["2606 16423", "1259 16445"]],
      ["/notes", ["2606 16500"]],
    ]);
    expect(split.rest.map((e) => e.objectKey)).toEqual(["1259 16446", "2606 16424", "2620 16600"]);
  });

  it("leaves everything for last when the backup recorded no builds (made before they were)", () => {
    const split = splitPostData(parseToc(LISTING), [{ path: "/wifi" }, { path: "/gps" }]);
    expect(split.byTable.size).toBe(0);
    expect(split.rest).toHaveLength(6);
  });
});
