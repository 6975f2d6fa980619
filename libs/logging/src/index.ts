// Structured JSON logs for the agent and the controller: one line per event
// on stderr, with a level and a component; fields never carry secrets.
export { createLogger, type Logger, type LogLevel } from "./logger.js";
