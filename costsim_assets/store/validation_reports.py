"""Persist validation verdicts so the latest evidence per dataset/version can be served."""

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import validation_reports


def record_validation_report(
    conn: sa.Connection,
    *,
    dataset: str,
    version: str,
    model_version: str,
    code_version: str,
    verdict: str,
    reasons: Sequence[str],
    metrics: Mapping[str, Any],
    report_json_path: str,
    report_md_path: str,
    run_id: str | None = None,
) -> int:
    """Insert one report inside the caller's transaction and return its id for linking."""
    statement = (
        validation_reports.insert()
        .values(
            dataset=dataset,
            version=version,
            model_version=model_version,
            code_version=code_version,
            verdict=verdict,
            reasons=list(reasons),
            metrics=dict(metrics),
            report_json_path=report_json_path,
            report_md_path=report_md_path,
            run_id=run_id,
        )
        .returning(validation_reports.c.id)
    )
    return conn.execute(statement).scalar_one()


def latest_validation_reports(conn: sa.Connection) -> list[dict[str, Any]]:
    """Return the newest report per (dataset, version), ordered by dataset then version."""
    rank = (
        sa.func.row_number()
        .over(
            partition_by=(validation_reports.c.dataset, validation_reports.c.version),
            order_by=(validation_reports.c.created_at.desc(), validation_reports.c.id.desc()),
        )
        .label("rank")
    )
    ranked = sa.select(validation_reports, rank).subquery()
    columns = [ranked.c[name] for name in validation_reports.c.keys()]
    statement = sa.select(*columns).where(ranked.c.rank == 1).order_by(ranked.c.dataset, ranked.c.version)
    return [dict(row) for row in conn.execute(statement).mappings()]
