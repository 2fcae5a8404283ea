/** The CostSim API v1 client: platform fetch, explicit per-request timeouts, bounded 429 retries. */
import { CostSimError, RateLimitedError, TransportError, ValidationError, errorFor } from "./errors.js";
import type {
  DivergenceReport,
  ExportCreated,
  ExportFormat,
  HistoryFilters,
  HistoryPage,
  HistoryRow,
  Outcome,
  OutcomeBatchResult,
  Plan,
  Readiness,
  ReportFilters,
  ReportFormat,
  SimulateResponse,
  V2Status,
} from "./types.js";

/** The API's limit on outcomes per request; reportOutcomes sends larger reports in chunks. */
export const MAX_OUTCOMES_PER_REQUEST = 1000;

export interface RetryEvent {
  attempt: number;
  waitS: number;
  error: RateLimitedError;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** Limit of each request, body included (AbortSignal.timeout). Default 30 000 ms. */
  timeoutMs?: number;
  /** 429s retried at most this often (default 3)... */
  maxRetries?: number;
  /** ...and never when Retry-After exceeds this (default 30 000 ms). */
  maxRetryWaitMs?: number;
  onRetry?: (event: RetryEvent) => void;
  fetch?: typeof fetch;
}

interface Call {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | null | undefined>;
  body?: unknown;
  auth?: boolean;
  ok?: number[];
}

type Instant = string | Date;

const instant = (value: Instant): string => (typeof value === "string" ? value : value.toISOString());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CostSimClient {
  readonly baseUrl: string;
  private readonly options: Required<Omit<ClientOptions, "apiKey" | "onRetry">> & ClientOptions;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.options = { timeoutMs: 30_000, maxRetries: 3, maxRetryWaitMs: 30_000, fetch: globalThis.fetch, ...options };
  }

  private url(call: Call): string {
    const absolute = /^https?:\/\//.test(call.path);
    const url = new URL(absolute ? call.path : `${this.baseUrl}${call.path}`);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== null && value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  private async fetchOnce(call: Call): Promise<Response> {
    const headers: Record<string, string> = { "User-Agent": "costsim-client-ts/1.0.0" };
    if (call.auth !== false && this.options.apiKey) headers["X-API-Key"] = this.options.apiKey;
    if (call.body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.options.fetch(this.url(call), {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      throw new TransportError(0, timedOut ? "timeout" : "transport_error", String(error));
    }
  }

  /** Send with retries on 429; a non-success answer throws its typed error. */
  private async send(call: Call): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.fetchOnce(call);
      if (response.ok || call.ok?.includes(response.status)) return response;
      const error = await errorFor(response);
      const retryable =
        error instanceof RateLimitedError &&
        attempt < this.options.maxRetries &&
        error.retryAfterS * 1000 <= this.options.maxRetryWaitMs;
      if (!retryable) throw error;
      this.options.onRetry?.({ attempt: attempt + 1, waitS: error.retryAfterS, error });
      await sleep(error.retryAfterS * 1000);
    }
  }

  private async json<T>(call: Call): Promise<T> {
    return (await (await this.send(call)).json()) as T;
  }

  /** A streamed body (never buffered whole): pipe it to a file or parse it as it arrives. */
  private async stream(call: Call): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(call);
    if (response.body === null) throw new CostSimError(response.status, "empty_body", "the answer has no body");
    return response.body;
  }

  /** GET /healthz: the process is alive. */
  health(): Promise<{ status: string }> {
    return this.json({ method: "GET", path: "/healthz", auth: false });
  }

  /** GET /readyz: the database is reachable and migrated (a 503 is returned, not thrown). */
  ready(): Promise<Readiness> {
    return this.json({ method: "GET", path: "/readyz", auth: false, ok: [503] });
  }

  /** V1's answer for one plan (V2 runs in shadow server-side); keep request_id for outcomes. */
  simulate(plan: Plan): Promise<SimulateResponse> {
    return this.json({ method: "POST", path: "/costsim/simulate", body: plan });
  }

  /** One answer per plan, in order, at most `concurrency` in flight; an invalid plan yields its ValidationError. */
  async simulateBatch(plans: Plan[], concurrency = 8): Promise<(SimulateResponse | ValidationError)[]> {
    const answers: (SimulateResponse | ValidationError)[] = new Array(plans.length);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < plans.length; index = next++) {
        answers[index] = await this.simulate(plans[index]).catch((error) => {
          if (error instanceof ValidationError) return error;
          throw error;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, plans.length) }, worker));
    return answers;
  }

  /** Report realized outcomes (any number: sent in chunks the API accepts); one answer each, in order. */
  async reportOutcomes(outcomes: Outcome[]): Promise<OutcomeBatchResult> {
    const merged: OutcomeBatchResult = { results: [], counts: {} };
    for (let start = 0; start < outcomes.length; start += MAX_OUTCOMES_PER_REQUEST) {
      const chunk = outcomes.slice(start, start + MAX_OUTCOMES_PER_REQUEST);
      const part = await this.json<OutcomeBatchResult>({
        method: "POST",
        path: "/costsim/outcomes",
        body: { outcomes: chunk },
      });
      merged.results.push(...part.results);
      for (const [status, count] of Object.entries(part.counts)) {
        merged.counts[status] = (merged.counts[status] ?? 0) + count;
      }
    }
    return merged;
  }

  v2Status(): Promise<V2Status> {
    return this.json({ method: "GET", path: "/costsim/v2/status" });
  }

  /** The kill switch (admin); ConflictError when V2 is already disabled. */
  disableV2(reason: string): Promise<V2Status> {
    return this.json({ method: "POST", path: "/costsim/v2/disable", body: { reason } });
  }

  /** Re-enable V2 routing (admin); ConflictError when it is already enabled. */
  enableV2(reason: string): Promise<V2Status> {
    return this.json({ method: "POST", path: "/costsim/v2/enable", body: { reason } });
  }

  statusHistoryPage(filters: HistoryFilters = {}, limit = 100, cursor?: string): Promise<HistoryPage> {
    return this.json({ method: "GET", path: "/status-history", query: { ...filters, limit, cursor } });
  }

  /** Every matching row, oldest first, following keyset cursors page by page. */
  async *iterStatusHistory(filters: HistoryFilters = {}, pageSize = 1000): AsyncGenerator<HistoryRow> {
    let cursor: string | undefined;
    do {
      const page = await this.statusHistoryPage(filters, pageSize, cursor);
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Every matching row as csv or jsonl, streamed. */
  streamStatusHistory(format: ExportFormat, filters: HistoryFilters = {}): Promise<ReadableStream<Uint8Array>> {
    return this.stream({ method: "GET", path: "/status-history", query: { ...filters, format } });
  }

  /** A server-side export, recorded for audit, with a signed expiring download link. */
  createExport(format: ExportFormat = "jsonl", filters: HistoryFilters = {}): Promise<ExportCreated> {
    return this.json({ method: "POST", path: "/status-history/exports", body: { ...filters, format } });
  }

  /** An export's file by its signed link (no API key is sent: the link is the credential). */
  downloadExport(exported: ExportCreated | string): Promise<ReadableStream<Uint8Array>> {
    const url = typeof exported === "string" ? exported : exported.url;
    return this.stream({ method: "GET", path: url, auth: false });
  }

  /** The V2-vs-V1 divergence summary over [start, end). */
  divergenceReport(start: Instant, end: Instant, filters: ReportFilters = {}): Promise<DivergenceReport> {
    const query = { ...filters, start: instant(start), end: instant(end), format: "json" };
    return this.json({ method: "GET", path: "/costsim/divergence-report", query });
  }

  /** Every V1/V2 pair over [start, end) as csv, jsonl or parquet, streamed. */
  divergenceReportFile(
    start: Instant,
    end: Instant,
    format: ReportFormat,
    filters: ReportFilters = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const query = { ...filters, start: instant(start), end: instant(end), format };
    return this.stream({ method: "GET", path: "/costsim/divergence-report", query });
  }

  /** A report file by the signed link the Dagster UI shows (absolute or relative to the base URL). */
  downloadReportFile(url: string): Promise<ReadableStream<Uint8Array>> {
    return this.stream({ method: "GET", path: url, auth: false });
  }
}
