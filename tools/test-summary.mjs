// Adds up the vitest JSON reports of every project into the one closing line
// CI reads ("N passed, N failed"); a project whose report is missing counts
// as a failure, because it crashed before reporting.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
const expected = process.argv.slice(3);
let passed = 0;
let failed = 0;
const found = new Set(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []);
for (const file of found) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  if (report.numFailedTestSuites > 0 && report.numFailedTests === 0) failed += report.numFailedTestSuites;
}
for (const project of expected) {
  if (!found.has(`${project}.json`)) {
    console.error(`no test report from ${project}: it crashed before reporting`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
