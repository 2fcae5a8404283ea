/** @costsim/client, SDK v1: the CostSim M6 HTTP API from TypeScript (ESM, platform fetch). */
export { CostSimClient, MAX_OUTCOMES_PER_REQUEST } from "./client.js";
export type { ClientOptions, RetryEvent } from "./client.js";
export * from "./errors.js";
export type * from "./types.js";
export type { components, operations, paths } from "./schema.js";
