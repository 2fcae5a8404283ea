"""The store schema as one MetaData; the migrations must reproduce it (a test compares them)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERSIONS = ("v1", "v2")
VERDICTS = ("pass", "warn", "fail", "no_data")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware timestamp; SQLite hands back naive UTC, so tag it as UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return aware datetimes on every backend so callers can compare them."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def json_type() -> sa.types.TypeEngine[object]:
    """Portable JSON that becomes indexable JSONB on PostgreSQL."""
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL membership test for a CHECK constraint over fixed string values."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

validation_reports = sa.Table(
    "validation_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("model_version", sa.String(80), nullable=False),
    sa.Column("code_version", sa.String(80), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("reasons", json_type(), nullable=False),
    sa.Column("metrics", json_type(), nullable=False),
    sa.Column("report_json_path", sa.Text, nullable=False),
    sa.Column("report_md_path", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.CheckConstraint(_in("version", VERSIONS), name="version"),
    sa.CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
    sa.Index("ix_validation_reports_dataset_version_created_at", "dataset", "version", "created_at"),
)

schema_errors = sa.Table(
    "schema_errors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(128), nullable=False),
    sa.Column("field_path", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw_record", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Index("ix_schema_errors_source_created_at", "source", "created_at"),
)

ROUTING_STATES = ("enabled", "disabled")
V2_STATUSES = ("pending", "ok", "error", "timeout", "schema_error")
V2_SKIPPED = "skipped"  # V1's half recorded; V2 not run (flag or routing off): not a V2 evaluation
SANDBOX_SCHEMA = "sandbox"

routing_state = sa.Table(
    "routing_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("actor_type", sa.String(32), nullable=False),
    sa.Column("actor_id", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("incident_id", sa.String(64), nullable=True),
    sa.Column("model_version", sa.String(80), nullable=True),
    sa.CheckConstraint("id = 1", name="singleton"),
    sa.CheckConstraint(_in("state", ROUTING_STATES), name="state"),
)

status_history = sa.Table(
    "status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(128), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("entity_type", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(128), nullable=False),
    sa.Column("old_status", sa.String(64), nullable=True),
    sa.Column("new_status", sa.String(64), nullable=False),
    sa.Column("actor_type", sa.String(32), nullable=False),
    sa.Column("actor_id", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("correlation_id", sa.String(128), nullable=True),
    sa.Column("metadata", json_type(), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("chain_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("tenant_id", "seq", name="uq_status_history_tenant_seq"),
    sa.Index("ix_status_history_entity", "tenant_id", "entity_type", "entity_id"),
)

EXPORT_FORMATS = ("csv", "jsonl")

status_history_exports = sa.Table(
    "status_history_exports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("tenant_id", sa.String(128), nullable=False),
    sa.Column("actor_key_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("filters", json_type(), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("file_path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.CheckConstraint(_in("format", EXPORT_FORMATS), name="format"),
    sa.Index("ix_status_history_exports_tenant_created_at", "tenant_id", "created_at"),
)

provenance = sa.Table(
    "provenance",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("tenant_id", sa.String(128), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("input_hash", sa.String(64), nullable=True),
    sa.Column("plan_z", sa.LargeBinary, nullable=False),
    sa.Column("code_version", sa.String(80), nullable=False),
    sa.Column("v1_version", sa.String(80), nullable=True),
    sa.Column("v1_output_hash", sa.String(64), nullable=True),
    sa.Column("v1_output_z", sa.LargeBinary, nullable=True),
    sa.Column("v1_cost_cents", sa.Float, nullable=True),
    sa.Column("v1_runtime_ms", sa.Float, nullable=True),
    sa.Column("v2_status", sa.String(16), nullable=False),
    sa.Column("v2_version", sa.String(80), nullable=True),
    sa.Column("v2_output_hash", sa.String(64), nullable=True),
    sa.Column("v2_output_z", sa.LargeBinary, nullable=True),
    sa.Column("v2_cost_cents", sa.Float, nullable=True),
    sa.Column("v2_runtime_ms", sa.Float, nullable=True),
    sa.Column("v2_error", sa.Text, nullable=True),
    sa.CheckConstraint(_in("v2_status", (*V2_STATUSES, V2_SKIPPED)), name="v2_status"),
    sa.Index("ix_provenance_created_at", "created_at"),
    sa.Index("ix_provenance_tenant_created_at", "tenant_id", "created_at"),
    sa.Index("ix_provenance_input_hash", "input_hash"),
    sa.Index("ix_provenance_v2_status", "v2_status"),
    sa.Index("ix_provenance_tenant_request", "tenant_id", "request_id", unique=True),
    schema=SANDBOX_SCHEMA,
)

OUTCOME_SOURCES = ("api", "replay")
STEP_STATUSES = ("ok", "error", "timeout", "skipped")

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("provenance_id", sa.String(36), sa.ForeignKey(provenance.c.id), primary_key=True),
    sa.Column("tenant_id", sa.String(128), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.CheckConstraint(_in("source", OUTCOME_SOURCES), name="source"),
    sa.Index("ix_outcomes_tenant_received_at", "tenant_id", "received_at"),
    schema=SANDBOX_SCHEMA,
)

outcome_steps = sa.Table(
    "outcome_steps",
    metadata,
    sa.Column("provenance_id", sa.String(36), sa.ForeignKey(outcomes.c.provenance_id), primary_key=True),
    sa.Column("step_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(128), nullable=False),
    sa.Column("skill", sa.String(128), nullable=False),
    sa.Column("model", sa.String(128), nullable=True),
    sa.Column("input_tokens", sa.BigInteger, nullable=True),
    sa.Column("output_tokens", sa.BigInteger, nullable=True),
    sa.Column("cost_cents", sa.Float, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.CheckConstraint(_in("status", STEP_STATUSES), name="status"),
    sa.CheckConstraint(
        "step_index >= 0 AND cost_cents >= 0 AND (input_tokens IS NULL OR input_tokens >= 0) "
        "AND (output_tokens IS NULL OR output_tokens >= 0) AND (latency_ms IS NULL OR latency_ms >= 0)",
        name="non_negative",
    ),
    schema=SANDBOX_SCHEMA,
)

canary_results = sa.Table(
    "canary_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column("partition_key", sa.String(10), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("sample_size", sa.Integer, nullable=False),
    sa.Column("drift_score", sa.Float, nullable=True),
    sa.Column("median_shift", sa.Float, nullable=True),
    sa.Column("schema_error_ratio", sa.Float, nullable=True),
    sa.Column("statistics", json_type(), nullable=False),
    sa.Column("report_path", sa.Text, nullable=False),
    sa.Column("diff_path", sa.Text, nullable=False),
    sa.CheckConstraint("status IN ('ok', 'no_data')", name="status"),
    sa.Index("ix_canary_results_partition_created_at", "partition_key", "created_at"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", UtcDateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("partition_key", sa.String(10), nullable=False),
    sa.Column("priority", sa.String(4), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("evidence", json_type(), nullable=False),
    sa.Column("json_path", sa.Text, nullable=True),
    sa.Column("md_path", sa.Text, nullable=True),
    sa.Column("linked_incident_id", sa.String(36), nullable=True),
    sa.UniqueConstraint("kind", "partition_key", name="uq_incidents_kind_partition"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column("dedupe_key", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("payload", json_type(), nullable=False),
    sa.UniqueConstraint("dedupe_key", "channel", name="uq_alert_deliveries_dedupe"),
)

MODEL_ROLES = ("champion", "challenger", "validated", "rejected", "retired")
MODEL_SOURCES = ("bootstrap", "outcomes")

model_registry = sa.Table(
    "model_registry",
    metadata,
    sa.Column("version", sa.String(80), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("window_start", sa.String(10), nullable=True),
    sa.Column("window_end", sa.String(10), nullable=True),
    sa.Column("artifact", json_type(), nullable=False),
    sa.Column("validation", json_type(), nullable=False),
    sa.CheckConstraint(_in("role", MODEL_ROLES), name="role"),
    sa.CheckConstraint(_in("source", MODEL_SOURCES), name="source"),
    sa.Index("ix_model_registry_role", "role"),
)
