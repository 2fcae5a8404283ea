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
