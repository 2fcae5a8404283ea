/** The TypeScript client against a live API: every operation and every error family. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { after, before, test } from "node:test";

import {
  AuthenticationError,
  ConflictError,
  CostSimClient,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  ServerError,
  TransportError,
  ValidationError,
  type ClientOptions,
  type RetryEvent,
  type SimulateResponse,
} from "../src/index.js";
import { liveServer, type LiveServer } from "./live.js";

let server: LiveServer;
let folder: string;

before(async () => {
  server = await liveServer();
  folder = await mkdtemp(join(tmpdir(), "costsim-ts-"));
});
after(async () => server?.stop());

const client = (role: string, options: Partial<ClientOptions> = {}) =>
  new CostSimClient({ baseUrl: server.base_url, apiKey: server.keys[role], ...options });

const plan = (promptTokens = 900, tenant?: string) => ({
  steps: [{ skill: "llm_invoke", params: { prompt_tokens: promptTokens, model: "gpt-4o" } }],
  budget_cents: 50,
  ...(tenant ? { tenant_id: tenant } : {}),
});

const outcome = (requestId: string, outputTokens = 200) => ({
  request_id: requestId,
  steps: [
    { skill: "llm_invoke", model: "gpt-4o", input_tokens: 900, output_tokens: outputTokens, cost_cents: 0.5, status: "ok" as const },
  ],
});

async function save(body: ReadableStream<Uint8Array>, name: string): Promise<string> {
  const path = join(folder, name);
  await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), createWriteStream(path));
  return path;
}

async function rejects<E>(work: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
    return error;
  }
  assert.fail(`expected ${kind.name}`);
}

const today = () => {
  const start = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
  return [start, new Date(start.getTime() + 86_400_000)] as const;
};

test("health and readiness", async () => {
  assert.deepEqual(await client("engineer").health(), { status: "ok" });
  assert.equal((await client("engineer").ready()).status, "ok");
});

test("simulate one plan and a batch with an invalid plan in it", async () => {
  const service = client("service");
  const one = await service.simulate(plan());
  assert.equal(one.shadow, "recorded");
  assert.equal(one.result.status, "FEASIBLE");
  const batch = await service.simulateBatch([plan(100), { steps: "nope", budget_cents: 1 }, plan(300)], 2);
  assert.ok(batch[1] instanceof ValidationError);
  assert.equal(batch[1].code, "schema_error");
  assert.notEqual((batch[0] as SimulateResponse).request_id, (batch[2] as SimulateResponse).request_id);
});

test("outcomes: accepted, duplicate, unknown, and chunked past the batch limit", async () => {
  const service = client("service");
  const { request_id } = await service.simulate(plan());
  assert.deepEqual((await service.reportOutcomes([outcome(request_id)])).counts, { accepted: 1 });
  const again = await service.reportOutcomes([outcome(request_id), outcome("no-such-request")]);
  assert.deepEqual(again.results.map((a) => a.status), ["duplicate", "unknown_request"]);
  const many = await service.reportOutcomes(Array.from({ length: 1001 }, (_, i) => outcome(`ts-unknown-${i}`)));
  assert.deepEqual(many.counts, { unknown_request: 1001 });
  assert.equal(many.results.length, 1001);
});

test("kill switch round trip; 409 when nothing changes", async () => {
  const admin = client("admin");
  assert.equal((await admin.v2Status()).routing_state, "enabled");
  const disabled = await admin.disableV2("ts sdk drill");
  assert.equal(disabled.routing_state, "disabled");
  assert.equal(disabled.v2_running, false);
  const conflict = await rejects(admin.disableV2("ts sdk drill again"), ConflictError);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.code, "no_transition");
  assert.equal((await admin.enableV2("ts sdk drill over")).routing_state, "enabled");
});

test("401 for an unknown key", async () => {
  const error = await rejects(new CostSimClient({ baseUrl: server.base_url, apiKey: "csk_no_no" }).v2Status(), AuthenticationError);
  assert.equal(error.code, "unauthenticated");
});

test("403 names the missing permission", async () => {
  const error = await rejects(client("engineer").disableV2("not mine to flip"), PermissionDeniedError);
  assert.deepEqual(error.details, { missing_permission: "v2:write", role: "engineer" });
});

test("422 carries field paths", async () => {
  const error = await rejects(client("admin").disableV2("no"), ValidationError);
  assert.equal((error.details as { path: string }[])[0].path, "body.reason");
});

test("404 for a signed link to a report file that does not exist", async () => {
  const error = await rejects(client("engineer").downloadReportFile(server.missing_report_url), NotFoundError);
  assert.equal(error.code, "not_found");
});

test("a report file downloads by its signed link", async () => {
  const path = await save(await client("engineer").downloadReportFile(server.report_url), "report.csv");
  assert.equal(await readFile(path, "utf8"), server.report_text);
});

test("429 is retried after Retry-After", async () => {
  const waits: RetryEvent[] = [];
  const slow = client("slow_3", { maxRetryWaitMs: 5000, onRetry: (event) => waits.push(event) });
  const answers = [await slow.simulate(plan()), await slow.simulate(plan())];
  assert.equal(new Set(answers.map((a) => a.request_id)).size, 2);
  assert.deepEqual(waits.map((w) => [w.attempt, w.waitS, w.error.status]), [[1, 1, 429]]);
});

test("429 throws when the wait exceeds the bound", async () => {
  const glacial = client("glacial_3", { maxRetryWaitMs: 5000 });
  await glacial.simulate(plan());
  const error = await rejects(glacial.simulate(plan()), RateLimitedError);
  assert.equal(error.retryAfterS, 100);
  assert.equal(error.code, "rate_limited");
});

test("5xx answers are ServerErrors, API-shaped or not", async () => {
  const gateway = createHttpServer((request, response) => {
    const api = request.url?.startsWith("/healthz");
    response.writeHead(api ? 503 : 502);
    response.end(api ? '{"error":{"code":"draining","message":"shutting down","details":null}}' : "<h1>502</h1>");
  });
  gateway.listen(0, "127.0.0.1");
  await once(gateway, "listening");
  const gatewayClient = new CostSimClient({ baseUrl: `http://127.0.0.1:${(gateway.address() as { port: number }).port}` });
  try {
    const draining = await rejects(gatewayClient.health(), ServerError);
    assert.deepEqual([draining.status, draining.code, draining.apiMessage], [503, "draining", "shutting down"]);
    const proxy = await rejects(gatewayClient.v2Status(), ServerError);
    assert.deepEqual([proxy.status, proxy.code, proxy.apiMessage], [502, "http_502", "<h1>502</h1>"]);
  } finally {
    gateway.closeAllConnections();
    gateway.close();
  }
});

test("explicit timeouts and refused connections are TransportErrors", async () => {
  const held: Socket[] = [];
  const silent: Server = createServer((socket) => held.push(socket)); // accepts, never answers
  silent.listen(0, "127.0.0.1");
  await new Promise((resolve) => silent.once("listening", resolve));
  const port = (silent.address() as { port: number }).port;
  const timedOut = await rejects(new CostSimClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 }).health(), TransportError);
  assert.equal(timedOut.code, "timeout");
  held.forEach((socket) => socket.destroy());
  await new Promise((resolve) => silent.close(resolve));
  const refused = await rejects(new CostSimClient({ baseUrl: `http://127.0.0.1:${port}` }).health(), TransportError);
  assert.equal(refused.code, "transport_error");
});

test("history: keyset pages iterate to the rows the streamed export holds", async () => {
  const admin = client("admin");
  await admin.disableV2("ts history");
  await admin.enableV2("ts history over");
  const auditor = client("auditor");
  const rows = [];
  for await (const row of auditor.iterStatusHistory({ entity_type: "v2_routing" }, 1)) rows.push(row);
  assert.ok(rows.length >= 2);
  const path = await save(await auditor.streamStatusHistory("jsonl", { entity_type: "v2_routing" }), "h.jsonl");
  const streamed = (await readFile(path, "utf8")).trim().split("\n").map((line) => JSON.parse(line).id);
  assert.deepEqual(streamed, rows.map((row) => row.id));
});

test("export: created, downloaded by its signed link, refused when tampered", async () => {
  const auditor = client("auditor");
  const created = await auditor.createExport("csv", { entity_type: "v2_routing" });
  assert.ok(created.rows >= 2);
  const path = await save(await auditor.downloadExport(created), "export.csv");
  assert.equal((await readFile(path, "utf8")).trim().split("\n").length, created.rows + 1);
  const refused = await rejects(auditor.downloadExport(created.url.replace("sig=", "sig=x")), PermissionDeniedError);
  assert.equal(refused.code, "forbidden");
});

test("divergence report: summary, csv, jsonl and parquet", async () => {
  const admin = client("admin");
  const tenant = "tenant-div-ts";
  await admin.simulateBatch([plan(400, tenant), plan(4000, tenant)]);
  const [start, end] = today();
  let summary: Record<string, unknown> = {};
  for (let attempt = 0; attempt < 100 && summary.n_pairs !== 2; attempt++) {
    summary = (await admin.divergenceReport(start, end, { tenant })).summary;
    if (summary.n_pairs !== 2) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(summary.n_pairs, 2);
  const csv = await readFile(await save(await admin.divergenceReportFile(start, end, "csv", { tenant }), "d.csv"), "utf8");
  assert.equal(csv.split("\n").filter((line) => line && !line.startsWith("#")).length, 3);
  const parquet = await readFile(await save(await admin.divergenceReportFile(start, end, "parquet", { tenant }), "d.parquet"));
  assert.equal(parquet.subarray(0, 4).toString(), "PAR1");
  const jsonl = await save(await admin.divergenceReportFile(start, end, "jsonl", { tenant }), "d.jsonl");
  assert.ok((await stat(jsonl)).size > 0);
});

test("100k history rows stream to a file with flat client memory", async () => {
  const auditor = client("bulk_auditor", { timeoutMs: 120_000 });
  const body = await auditor.streamStatusHistory("csv", { entity_type: server.bulk_entity });
  const collect = (globalThis as { gc?: () => void }).gc; // --expose-gc: measure live memory, not garbage
  assert.ok(collect, "run with node --expose-gc (npm test does)");
  collect();
  const live = () => process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  const baseline = live();
  let peak = 0;
  let lines = 0;
  let chunks = 0;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        for (const byte of chunk) if (byte === 10) lines++;
        if (++chunks % 16 === 0) {
          collect();
          peak = Math.max(peak, live() - baseline);
        }
        controller.enqueue(chunk);
      },
    }),
  );
  const path = await save(counted, "bulk.csv");
  const bytes = (await stat(path)).size;
  console.log(`ts: ${(bytes / 2 ** 20).toFixed(1)} MiB streamed, peak live-memory growth ${(peak / 2 ** 20).toFixed(2)} MiB`);
  assert.equal(lines, server.bulk_rows + 1);
  assert.ok(peak < 16 * 2 ** 20 && bytes > 16 * 2 ** 20, `peak ${peak} of ${bytes} bytes`);
});
