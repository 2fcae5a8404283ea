"""Alembic environment: runs online only, on the connection handed in by engine.upgrade_to_head."""

from alembic import context

from costsim_assets.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through costsim_assets.store.engine.upgrade_to_head")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
