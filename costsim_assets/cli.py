"""`costsim`: the console command (API server, key creation, the manual kill switch and its state,
incidents, history verification, database migration and roles, evaluating V2 on a trace)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence

from costsim_assets import settings


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    from costsim_assets.api.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _create_key(args: argparse.Namespace) -> int:
    from costsim_assets.api.keys import create_key

    path = args.keys_file or os.environ.get(settings.API_KEYS_FILE)
    if not path:
        print(f"error: pass --keys-file or set {settings.API_KEYS_FILE}", file=sys.stderr)
        return 2
    print(create_key(path, args.tenant, args.role))
    print("store this key now: it is not kept anywhere in clear text", file=sys.stderr)
    return 0


def _store():
    """The application store from COSTSIM_DATABASE_URL, migrated to head."""
    from costsim_assets.store.engine import make_engine, upgrade_to_head

    engine = make_engine(settings.database_url_from_env())
    upgrade_to_head(engine)
    return engine


def _routing(args: argparse.Namespace) -> int:
    from costsim_assets.store.routing import read_routing_state, transition_routing

    engine = _store()
    if args.action == "status":
        with engine.connect() as conn:
            state = read_routing_state(conn)
        for name in ("state", "revision", "updated_at", "actor_type", "actor_id", "reason", "incident_id"):
            print(f"{name}: {getattr(state, name)}")
        return 0
    with engine.begin() as conn:
        moved = transition_routing(
            conn,
            to_state=f"{args.action}d",
            actor_type="person",
            actor_id=args.actor or getpass.getuser(),
            reason=args.reason,
        )
    print(f"V2 routing {'is now' if moved else 'was already'} {args.action}d")
    return 0


def _model(args: argparse.Namespace) -> int:
    """The serving V2 model and any challenger; `promote` serves a validated challenger (audited)."""
    from costsim_assets.store.models import PromotionRefused, champion, pending_challenger, promote

    engine = _store()
    if args.action == "promote":
        if not args.version or not args.reason:
            print("error: promote needs VERSION and --reason", file=sys.stderr)
            return 2
        try:
            with engine.begin() as conn:
                moved = promote(
                    conn,
                    args.version,
                    actor_type="person",
                    actor_id=args.actor or getpass.getuser(),
                    reason=args.reason,
                )
        except PromotionRefused as error:
            print(f"refused: {error}", file=sys.stderr)
            return 1
        print(f"V2 {moved['to']} now serves (was {moved['from']}; routing revision {moved['revision']})")
        return 0
    with engine.connect() as conn:
        current, pending = champion(conn), pending_challenger(conn)
    print(f"champion: {current['version'] if current else 'none yet (the packaged bootstrap)'}")
    if pending:
        days = ", ".join(f"{d['day']} {'pass' if d['passed'] else 'fail'}" for d in pending["validation"])
        print(
            f"challenger: {pending['version']} ({pending['role']}; fitted on {pending['window_start']}.."
            f"{pending['window_end']}; unseen days: {days or 'none yet'})"
        )
    return 0


def _incidents(args: argparse.Namespace) -> int:
    from costsim_assets.store.incidents import list_incidents

    with _store().connect() as conn:
        incidents = [i for i in list_incidents(conn) if args.day in (None, i["partition_key"])]
    for i in incidents:
        linked = f" linked to {i['linked_incident_id']}" if i["linked_incident_id"] else ""
        files = i["md_path"] or "(no files yet)"
        print(f"{i['partition_key']} {i['priority']} {i['kind']} {i['id']}{linked} {files}")
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from costsim_assets.store.engine import current_revision

    print(f"migrated to {current_revision(_store())}")
    return 0


def _provision_roles(_: argparse.Namespace) -> int:
    """Migrate, then (re)create the API's and the sandbox's login roles with their grants; run
    after every migration, since grants cover the tables that exist when they are given."""
    from costsim_assets.store.engine import provision_app_role, provision_sandbox_role

    app, sandbox = settings.database_roles()
    engine = _store()
    if engine.dialect.name != "postgresql":
        print("error: database roles exist on PostgreSQL only", file=sys.stderr)
        return 2
    with engine.begin() as conn:
        provision_app_role(conn, app.name, app.password)
        provision_sandbox_role(conn, sandbox.name, sandbox.password)
    print(f"provisioned roles {app.name} (app, row-level security) and {sandbox.name} (sandbox schema only)")
    return 0


def _history_rows(args: argparse.Namespace):
    """The rows to verify: an export file's, or the table's (one tenant or all) in id order."""
    from pathlib import Path

    from costsim_assets.history.formats import read_export
    from costsim_assets.store.engine import make_engine
    from costsim_assets.store.history_queries import iter_history

    if args.file:
        yield from read_export(Path(args.file))
        return
    engine = make_engine(settings.database_url_from_env())
    with engine.connect() as conn:
        yield from iter_history(conn, tenant_id=args.tenant, filters={})


def _verify_history(args: argparse.Namespace) -> int:
    from costsim_assets.store.status_history import first_broken_link

    broken = first_broken_link(_history_rows(args))
    if broken is None:
        print("OK: every hash-chain link verifies")
        return 0
    print(f"BROKEN: tenant {broken['tenant_id']} seq {broken['seq']}: {broken['problem']}")
    return 1


def _evaluate_trace(args: argparse.Namespace) -> int:
    from costsim_assets.simulator.v2_model import load_v2_model
    from costsim_assets.validation.thresholds import load_thresholds
    from costsim_assets.validation.trace_eval import (
        TraceEvaluationError,
        evaluate_trace,
        read_checked_trace,
        summary_text,
    )

    try:
        trace, digest = read_checked_trace(args.source, args.sha256)
        model = load_v2_model(args.model)
    except (TraceEvaluationError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = evaluate_trace(trace, digest, model, load_thresholds(args.thresholds))
    print(json.dumps(result, sort_keys=True, allow_nan=False) if args.json else summary_text(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="costsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API (reads COSTSIM_* settings)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument("--log-level", default="warning")
    api.set_defaults(run=_api)
    key = sub.add_parser("create-key", help="create an API key and print it once")
    key.add_argument("--tenant", required=True)
    key.add_argument("--role", required=True, choices=("admin", "engineer", "auditor", "service"))
    key.add_argument("--keys-file")
    key.set_defaults(run=_create_key)
    routing = sub.add_parser("routing", help="show V2 routing, or enable or disable it by hand")
    routing.add_argument("action", choices=("status", "enable", "disable"))
    routing.add_argument("--reason", help="required to enable or disable")
    routing.add_argument("--actor")
    routing.set_defaults(run=_routing)
    model = sub.add_parser("model", help="the serving V2 model and its challenger; promote a validated one")
    model.add_argument("action", choices=("status", "promote"))
    model.add_argument("version", nargs="?")
    model.add_argument("--reason")
    model.add_argument("--actor")
    model.set_defaults(run=_model)
    incidents = sub.add_parser("incidents", help="list incidents (one per check and canary day)")
    incidents.add_argument("--day", help="only this canary day (YYYY-MM-DD)")
    incidents.set_defaults(run=_incidents)
    db = sub.add_parser("db", help="the application store (COSTSIM_DATABASE_URL, as its owner)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="migrate to the head revision").set_defaults(run=_migrate)
    db_sub.add_parser(
        "provision-roles",
        help=f"migrate, then create or update the app and sandbox login roles (PostgreSQL; passwords "
        f"from {settings.APP_DB_PASSWORD} and {settings.SANDBOX_DB_PASSWORD})",
    ).set_defaults(run=_provision_roles)
    verify = sub.add_parser("verify-history", help="verify the status-history hash chain (exit 1 if broken)")
    source = verify.add_mutually_exclusive_group()
    source.add_argument("--file", help="a .csv or .jsonl export (default: the table, COSTSIM_DATABASE_URL)")
    source.add_argument("--tenant", help="verify only this tenant's chain in the table")
    verify.set_defaults(run=_verify_history)
    evaluate = sub.add_parser(
        "evaluate-trace",
        help="score the V2 artifact and the naive baselines on an Azure-format trace (exit 2 on bad input)",
    )
    evaluate.add_argument(
        "--source", required=True, help="CSV with TIMESTAMP, ContextTokens, GeneratedTokens"
    )
    evaluate.add_argument("--sha256", required=True, help="expected sha256 of the file")
    evaluate.add_argument("--model", help="a V2 artifact file (default: the packaged champion)")
    evaluate.add_argument("--thresholds", help="a validation thresholds YAML (default: the packaged one)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=_evaluate_trace)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "routing" and args.action != "status" and not args.reason:
        parser.error(f"routing {args.action} needs --reason")
    return args.run(args)
