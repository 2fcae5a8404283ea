"""The FastAPI application factory (used by `costsim api` and by tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from costsim_assets.api import divergence, health, history, metrics, outcomes, routing, simulate
from costsim_assets.api.errors import install_error_handlers
from costsim_assets.api.keys import KeyRing
from costsim_assets.api.rate_limit import Limit, TenantLimits, TokenBuckets
from costsim_assets.api.services import Services
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.sandbox.shadow import ShadowRecorder, V2Function
from costsim_assets.settings import ApiSettings, load_api_settings
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.store.engine import make_engine, make_sandbox_engine, upgrade_to_head


def build_services(settings: ApiSettings, v2: V2Function | None = None) -> Services:
    """Engines migrated to head, keys loaded, and the shadow recorder started (pending rows recovered)."""
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    sandbox_engine = make_sandbox_engine(settings.database_url, settings.sandbox_database_url)
    model = load_v2_model()
    recorder = ShadowRecorder(
        sandbox_engine, v2 or V2Evaluator(model), time_budget_ms=settings.v2_time_budget_ms
    )
    recorder.recover_pending()
    return Services(
        settings=settings,
        engine=engine,
        sandbox_engine=sandbox_engine,
        keys=KeyRing.load(settings.api_keys_file),
        limiter=TokenBuckets(
            TenantLimits.load(
                Limit(settings.rate_limit_per_second, settings.rate_limit_burst), settings.tenants_file
            )
        ),
        recorder=recorder,
        v2_model_version=model.version,
    )


def create_app(settings: ApiSettings | None = None, v2: V2Function | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = build_services(settings or load_api_settings(), v2)
        yield
        app.state.services.recorder.close()

    app = FastAPI(
        title="CostSim M6 API",
        version="1.0.0",
        lifespan=lifespan,
        description="V1 answers every simulate call; V2 runs in a sandbox in its shadow.",
    )
    install_error_handlers(app)
    for module in (simulate, outcomes, routing, health, metrics, divergence, history):
        app.include_router(module.router)
    return app
