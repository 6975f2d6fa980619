import { stopAll } from "@pwdr/test-harness";
import { afterAll } from "vitest";
import { fleetSuite } from "./fleet-suite.js";

afterAll(stopAll);

fleetSuite({ name: "PostgreSQL", postgres: true });
