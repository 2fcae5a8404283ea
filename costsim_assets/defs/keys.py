"""Every asset key of the project, built in one place so no module spells a key from strings.

Jobs, sensors, tests and the assets themselves import keys from here; renaming an asset is a
one-line change.
"""

import dagster as dg

VERSIONS = ("v1", "v2")

MODEL = dg.AssetKey(["models", "v2_model"])
M6_VERDICT = dg.AssetKey(["validation", "m6_verdict"])
TRAFFIC_REPLAY = dg.AssetKey(["sandbox", "traffic_replay"])
CANARY_SAMPLE = dg.AssetKey(["canary", "sample"])
CANARY_DRIFT = dg.AssetKey(["canary", "drift"])
CANARY_VERDICT = dg.AssetKey(["canary", "verdict"])
DIVERGENCE_REPORT = dg.AssetKey(["reports", "divergence_report"])
ROUTING = dg.AssetKey(["routing", "v2_state"])
CHALLENGER = dg.AssetKey(["models", "v2_challenger"])


def reference(name: str) -> dg.AssetKey:
    """A golden dataset."""
    return dg.AssetKey(["reference", name])


def simulation(name: str, version: str) -> dg.AssetKey:
    """One version's outputs on one golden dataset."""
    return dg.AssetKey(["simulation", f"{name}_{version}"])


def metrics(name: str) -> dg.AssetKey:
    """V1 and V2 error metrics on one golden dataset."""
    return dg.AssetKey(["validation", f"{name}_metrics"])


def verdict(name: str) -> dg.AssetKey:
    """The pass/warn/fail verdict on one golden dataset."""
    return dg.AssetKey(["validation", f"{name}_verdict"])
