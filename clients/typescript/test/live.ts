/**
 * The live API the suite runs against: COSTSIM_TEST_SERVER (JSON, given by the pytest suite that
 * already runs one), else a server started here by the repository's Python harness
 * (`python -m tests.clients.serve`: PostgreSQL store, seeded rows), stopped when the suite ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

export interface LiveServer {
  base_url: string;
  keys: Record<string, string>;
  report_url: string;
  report_text: string;
  missing_report_url: string;
  bulk_rows: number;
  bulk_entity: string;
  stop: () => Promise<void>;
}

const REPOSITORY = resolve(import.meta.dirname, "..", "..", "..", "..");

function python(): string {
  const venv = resolve(REPOSITORY, ".venv", "bin", "python");
  return process.env.COSTSIM_PYTHON ?? (existsSync(venv) ? venv : "python3");
}

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`the API harness exited (${code}) before it was ready`);
  });
  const line = once(lines, "line").then(([text]) => text as string);
  return Promise.race([line, exited]);
}

export async function liveServer(): Promise<LiveServer> {
  const given = process.env.COSTSIM_TEST_SERVER;
  if (given) return { ...JSON.parse(given), stop: async () => {} };
  const child = spawn(python(), ["-m", "tests.clients.serve"], {
    cwd: REPOSITORY,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const config = JSON.parse(await firstLine(child));
  const stop = async () => {
    const exited = once(child, "exit");
    child.stdin!.end();
    await exited;
  };
  return { ...config, stop };
}
