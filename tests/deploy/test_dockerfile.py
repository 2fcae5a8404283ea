"""deploy/docker/Dockerfile and .dockerignore: one image, built for caching, run as non-root.

Static checks (no docker engine needed), parsed with dockerfile-parse:
- the runtime stage switches to a numeric non-root USER (the chart's runAsUser) before CMD;
- the dependency layer (COPY pyproject.toml constraints.txt + pip install -c constraints.txt) comes
  before the source is copied, and the package itself is installed with --no-deps;
- Python 3.11 base, a HEALTHCHECK for both roles, the gRPC server as default command;
- .dockerignore keeps local state, caches and VCS out of the build context but not the sources.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CHART_VALUES = ROOT / "deploy/helm/costsim/values.yaml"

GRPC_CMD = [
    "dagster",
    "api",
    "grpc",
    "-m",
    "costsim_assets.definitions",
    "-a",
    "defs",
    "-h",
    "0.0.0.0",
    "-p",
    "3030",
]


Instruction = dict  # dockerfile-parse's {"instruction", "value", "startline", ...}


@pytest.fixture(scope="module")
def parser() -> DockerfileParser:
    parser = DockerfileParser(path=str(DOCKERFILE))
    # resolve ARG defaults used in FROM (e.g. ${PYTHON_IMAGE})
    parser.build_args = {}
    return parser


@pytest.fixture(scope="module")
def stages(parser: DockerfileParser) -> list[list[Instruction]]:
    """Instructions grouped by build stage (each starts with FROM)."""
    result: list[list[Instruction]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    assert result, "no FROM in the Dockerfile"
    return result


def _args(parser: DockerfileParser) -> dict[str, str]:
    args = {}
    for instruction in parser.structure:
        if instruction["instruction"] == "ARG" and "=" in instruction["value"]:
            name, value = instruction["value"].split("=", 1)
            args[name.strip()] = value.strip().strip('"')
    return args


def _base_image(parser: DockerfileParser, stage: list[Instruction]) -> str:
    image = stage[0]["value"].split()[0]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: _args(parser).get(m.group(1), m.group(0)), image)


def _index(stage: list[Instruction], predicate) -> int:
    for i, instruction in enumerate(stage):
        if predicate(instruction):
            return i
    return -1


def _copy_sources(instruction: Instruction) -> list[str]:
    words = [w for w in shlex.split(instruction["value"]) if not w.startswith("--")]
    return words[:-1]


def test_base_image_is_python_3_11(parser: DockerfileParser, stages: list[list[Instruction]]) -> None:
    for stage in stages:
        image = _base_image(parser, stage)
        assert re.match(r"^python:3\.11([.\-@:]|$)", image), image


def test_runtime_stage_runs_as_the_charts_non_root_user(stages: list[list[Instruction]]) -> None:
    runtime = stages[-1]
    users = [i for i in runtime if i["instruction"] == "USER"]
    assert users, "the final stage never sets USER (it would run as root)"
    user = users[-1]["value"].split(":")[0].strip()
    assert user not in {"root", "0"}
    assert user.isdigit(), "use a numeric UID so Kubernetes can verify runAsNonRoot"
    chart = yaml.safe_load(CHART_VALUES.read_text())
    assert int(user) == chart["securityContext"]["runAsUser"] == chart["podSecurityContext"]["runAsUser"]
    start = _index(runtime, lambda i: i["instruction"] in {"CMD", "ENTRYPOINT"})
    assert start != -1, "no CMD/ENTRYPOINT in the final stage"
    last_user = max(i for i, ins in enumerate(runtime) if ins["instruction"] == "USER")
    assert last_user < start, "USER must be set before CMD/ENTRYPOINT"
    # nothing after USER switches back to root
    assert all(
        i["instruction"] != "USER" or i["value"].split(":")[0] not in {"root", "0"}
        for i in runtime[last_user:]
    )


def test_dependencies_are_installed_before_the_source_is_copied(stages: list[list[Instruction]]) -> None:
    build = next(
        s for s in stages if any(i["instruction"] == "COPY" and "pyproject.toml" in i["value"] for i in s)
    )
    deps_copy = _index(
        build,
        lambda i: (
            i["instruction"] == "COPY" and set(_copy_sources(i)) == {"pyproject.toml", "constraints.txt"}
        ),
    )
    assert deps_copy != -1, "COPY pyproject.toml constraints.txt (and nothing else) is missing"
    deps_install = _index(
        build,
        lambda i: (
            i["instruction"] == "RUN" and "pip install" in i["value"] and "-c constraints.txt" in i["value"]
        ),
    )
    source_copy = _index(
        build,
        lambda i: (
            i["instruction"] == "COPY"
            and ({".", "costsim_assets", "costsim_assets/"} & set(_copy_sources(i)))
        ),
    )
    assert source_copy != -1, "the source is never copied"
    assert deps_copy < deps_install < source_copy, "dependency layer must precede the source copy"
    # the package itself: installed after the source copy, without touching the dependencies
    package_install = _index(
        build[source_copy:],
        lambda i: (
            i["instruction"] == "RUN" and re.search(r"pip install[^&]*--no-deps[^&]* \.(\s|$)", i["value"])
        ),
    )
    assert package_install != -1, "the package must be installed with `pip install --no-deps .`"


def test_runtime_stage_gets_only_the_built_environment(stages: list[list[Instruction]]) -> None:
    assert len(stages) >= 2, "a build stage and a runtime stage are expected"
    runtime = stages[-1]
    copies = [i for i in runtime if i["instruction"] == "COPY"]
    assert copies and all("--from=" in i["value"] for i in copies), "runtime copies only from the build stage"
    assert not any(i["instruction"] == "RUN" and "pip install" in i["value"] for i in runtime)


def test_default_command_is_the_grpc_server_and_ports_are_exposed(stages: list[list[Instruction]]) -> None:
    runtime = stages[-1]
    cmd = [i for i in runtime if i["instruction"] == "CMD"][-1]["value"]
    assert json.loads(cmd) == GRPC_CMD, "exec-form CMD running the gRPC code server"
    exposed = {p for i in runtime if i["instruction"] == "EXPOSE" for p in i["value"].split()}
    assert {"3030", "8080"} <= exposed


def test_healthcheck_covers_both_roles(stages: list[list[Instruction]]) -> None:
    checks = [i for i in stages[-1] if i["instruction"] == "HEALTHCHECK"]
    assert len(checks) == 1, "one HEALTHCHECK in the runtime stage"
    value = checks[0]["value"]
    assert not value.strip().upper().startswith("NONE")
    assert "/healthz" in value and "8080" in value, "the API role's liveness endpoint"
    assert "grpc-health-check -p 3030" in value, "the gRPC role's health check"
    assert re.search(r"--timeout=\d+s", value) and re.search(r"--interval=\d+s", value)


def test_environment_matches_the_chart(stages: list[list[Instruction]]) -> None:
    env = " ".join(i["value"] for i in stages[-1] if i["instruction"] == "ENV")
    chart = yaml.safe_load(CHART_VALUES.read_text())
    assert f"DAGSTER_HOME={chart['dagsterHome']}" in env
    assert f"COSTSIM_ARTIFACT_ROOT={chart['config']['artifactRoot']}" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env, "the root filesystem is read-only at run time"


# ------------------------------------------------------------------------------------------------
# .dockerignore


def _ignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last matching pattern wins; `!` re-includes; a pattern
    matching a directory excludes everything under it."""
    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        candidates = [body, body.replace("**/", "")] if body.startswith("**/") else [body]
        if any(fnmatch.fnmatchcase(prefix, c) for prefix in prefixes for c in candidates) or (
            body.startswith("**/") and any(fnmatch.fnmatchcase(p, body[3:]) for p in parts)
        ):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".venv",
        ".venv/bin/python",
        ".git",
        ".git/HEAD",
        ".artifacts",
        ".artifacts/costsim.db",
        ".dagster_home",
        ".dagster_home/dagster.yaml",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".coverage",
        "coverage.xml",
        "htmlcov",
        "costsim_assets/__pycache__/x.cpython-311.pyc",
        ".tools/bin/helm",
        "tests/unit/test_v1.py",
    ],
)
def test_dockerignore_excludes_local_state_and_caches(path: str) -> None:
    assert _ignored(path, _ignore_patterns()), f"{path} would be sent to the build context"


def test_dockerignore_keeps_what_the_build_copies(parser: DockerfileParser) -> None:
    patterns = _ignore_patterns()
    sources = {
        src
        for i in parser.structure
        if i["instruction"] == "COPY" and "--from=" not in i["value"]
        for src in _copy_sources(i)
    }
    assert sources, "no COPY from the build context"
    for source in sources:
        path = source.rstrip("/")
        assert (ROOT / path).exists(), f"COPY source {path} does not exist"
        assert not _ignored(path, patterns), f"{path} is copied but excluded by .dockerignore"
    for data_file in (
        "costsim_assets/simulator/data/v2_model.json",
        "costsim_assets/config/validation_thresholds.yaml",
        "costsim_assets/definitions.py",
    ):
        assert not _ignored(data_file, patterns), data_file
