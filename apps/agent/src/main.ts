import { startEarlyUnlock } from "./commands/early-unlock.js";

// Before the CLI's modules load: see early-unlock.ts.
await startEarlyUnlock(process.argv.slice(2), process.env);
const { runCli } = await import("./cli.js");
await runCli(process.argv);
