// The PWDR agent: enrollment and the session with the controller. The CLI
// entry point is main.ts; tests use these functions in-process.
export { type AgentIdentity, loadIdentity, NotEnrolledError } from "./agent-identity.js";
export { backoffDelayMs } from "./backoff.js";
export { EnrollmentError, enrollAgent, fetchPinnedCa } from "./enroll.js";
export { collectHostFacts } from "./host-facts.js";
export { SessionClient } from "./session-client.js";
