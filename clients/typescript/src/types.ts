/** Names for the generated OpenAPI types (src/schema.ts, from clients/openapi.json) the client uses. */
import type { components, operations } from "./schema.js";

type Schemas = components["schemas"];
export type SimulateResponse = Schemas["SimulateResponse"];
export type Outcome = Schemas["OutcomeIn"];
export type OutcomeStep = Schemas["OutcomeStepIn"];
export type OutcomeBatchResult = Schemas["OutcomeBatchOut"];
export type V2Status = Schemas["V2Status"];
export type HistoryPage = Schemas["HistoryPage"];
export type ExportCreated = Schemas["ExportCreated"];
export type ErrorBody = Schemas["ErrorBody"];
export type HistoryQuery = NonNullable<operations["list_history_status_history_get"]["parameters"]["query"]>;
export type HistoryFilters = Omit<HistoryQuery, "limit" | "cursor" | "format">;
export type HistoryRow = HistoryPage["items"][number];
export type DivergenceQuery = operations["divergence_report_costsim_divergence_report_get"]["parameters"]["query"];
export type ReportFilters = Pick<DivergenceQuery, "tenant" | "v1_version" | "v2_version">;
export type ReportFormat = "csv" | "jsonl" | "parquet";
export type ExportFormat = "csv" | "jsonl";
/** A plan: steps, budget_cents, allowed_skills, risk_threshold; tenant_id defaults to the key's. */
export type Plan = Record<string, unknown>;

export interface DivergenceReport {
  summary: Record<string, unknown>;
  filters: Record<string, unknown>;
}

export interface Readiness {
  status: "ok" | "unavailable";
  revision?: string;
  reason?: string;
}
