// The PWDR controller: enrollment, agent sessions over mutual TLS and the
// catalog. The CLI entry point is main.ts; tests start it in-process here.
export { type ControllerOptions, type RunningController, startController } from "./controller-server.js";
export { createEnrollmentToken } from "./enrollment-tokens.js";
