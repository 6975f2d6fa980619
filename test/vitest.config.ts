import { projectTestConfig } from "../vitest.shared.js";

// The end-to-end files mostly wait (for schedules, restarts, renewals), so two
// run at once even on two cores; each file starts its own servers on free ports.
export default projectTestConfig(import.meta.dirname, { maxWorkers: 2 });
