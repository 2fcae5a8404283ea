"""The costsim Helm chart: lints, renders valid Kubernetes objects, and keeps its promises.

What is checked, on the default values AND deploy/helm/values-production.yaml:
- `helm lint --strict` passes; `helm template` renders; every rendered object validates against the
  Kubernetes 1.30 OpenAPI schemas (kubernetes-validate; only the Prometheus Operator CRD kinds,
  which no bundled schema covers, are skipped by name);
- probes, ports, resources and the security context of both Deployments;
- secrets only by reference (no Secret object, no literal secret value);
- the tenants config in the ConfigMap; the V2 sandbox namespace's quota and network isolation;
- the PrometheusRule carries exactly the groups of deploy/prometheus/costsim-alerts.yml;
- deploy/k8s/costsim.yaml is what scripts/render-k8s.sh renders now (one source of truth);
- values.schema.json rejects wrongly typed values; deploy/helm/dagster-values.yaml agrees with
  the chart (service name/port, ConfigMap, secret references).

helm is required: these tests FAIL when it is missing (run scripts/install-helm.sh, which puts it
at ./.tools/bin/helm), unless COSTSIM_ALLOW_MISSING_HELM=1, which turns that into a skip.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = Path("deploy/helm/costsim")
PROD_VALUES = Path("deploy/helm/values-production.yaml")
DAGSTER_VALUES = ROOT / "deploy/helm/dagster-values.yaml"
ALERTS = Path("deploy/prometheus/costsim-alerts.yml")
CHART_ALERTS_LINK = ROOT / CHART / "files/costsim-alerts.yml"
K8S_MANIFEST = ROOT / "deploy/k8s/costsim.yaml"
RENDER_SCRIPT = ROOT / "scripts/render-k8s.sh"
ALLOW_MISSING_ENV = "COSTSIM_ALLOW_MISSING_HELM"

RELEASE = "costsim"
NAMESPACE = "costsim"
SANDBOX_NAMESPACE = "costsim-v2-sandbox"
KUBE_VERSION = "1.30.0"
# Custom resources of the Prometheus Operator: kubernetes-validate has no schema for them.
CRD_KINDS = {("monitoring.coreos.com/v1", "PrometheusRule"), ("monitoring.coreos.com/v1", "ServiceMonitor")}

SECRET_ENV = {
    "COSTSIM_DATABASE_URL",
    "COSTSIM_ANONYMIZATION_SALT",
    "COSTSIM_SIGNING_KEYS",
    "COSTSIM_SLACK_WEBHOOK_URL",
    "COSTSIM_SANDBOX_DATABASE_URL",
}
CONFIG_ENV = {
    "COSTSIM_ARTIFACT_ROOT",
    "COSTSIM_HISTORICAL_SOURCE",
    "COSTSIM_V2_SANDBOX",
    "COSTSIM_API_KEYS_FILE",
    "COSTSIM_TENANTS_FILE",
    "COSTSIM_V2_TIME_BUDGET_MS",
    "COSTSIM_OUTCOME_MAX_AGE_DAYS",
    "COSTSIM_REPLAY_SOURCE",
    "COSTSIM_REPLAY_SHA256",
    "COSTSIM_RATE_LIMIT_PER_SECOND",
    "COSTSIM_RATE_LIMIT_BURST",
    "COSTSIM_EXECUTOR",
}
GRPC_HEALTH = ["dagster", "api", "grpc-health-check", "-p", "3030"]
PLACEHOLDER_ALERTS = """\
# Placeholder written by tests/deploy/test_helm_chart.py into a TEMP copy of deploy/, only because
# deploy/prometheus/costsim-alerts.yml does not exist yet.
groups:
  - name: costsim-placeholder
    rules:
      - alert: CostSimPlaceholder
        expr: vector(0) > 1
        labels: {severity: none}
        annotations: {summary: "placeholder {{ $value }}"}
"""

VALUE_SETS = {"default": (), "production": (PROD_VALUES,)}


# ------------------------------------------------------------------------------------------------
# helm and rendering


@functools.cache
def _find_helm() -> str | None:
    local = ROOT / ".tools/bin/helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("helm")


@pytest.fixture(scope="module")
def helm() -> str:
    """Path of helm; a failure (not a skip) when missing, unless explicitly allowed."""
    path = _find_helm()
    if path is None:
        message = (
            "helm not found at ./.tools/bin/helm or on PATH: run scripts/install-helm.sh "
            f"(or set {ALLOW_MISSING_ENV}=1 to skip the chart tests)"
        )
        if os.environ.get(ALLOW_MISSING_ENV) == "1":
            pytest.skip(message)
        pytest.fail(message)
    return path


@pytest.fixture(scope="module")
def deploy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory holding deploy/: the repository itself, or, while deploy/prometheus/costsim-alerts.yml
    does not exist yet, a temporary copy of deploy/helm with a placeholder rules file beside it
    (never written into the repository)."""
    if (ROOT / ALERTS).is_file():
        return ROOT
    tmp = tmp_path_factory.mktemp("deploy-root")
    shutil.copytree(ROOT / "deploy/helm", tmp / "deploy/helm", symlinks=True)
    (tmp / ALERTS).parent.mkdir(parents=True)
    (tmp / ALERTS).write_text(PLACEHOLDER_ALERTS)
    return tmp


def _helm_run(helm: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _template_args(values: tuple[Path, ...], extra: tuple[str, ...] = ()) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for path in values:
        args += ["-f", str(path)]
    return [*args, *extra]


def _parse(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


_render_cache: dict[tuple, list[dict]] = {}


def render(helm: str, root: Path, values: tuple[Path, ...] = (), extra: tuple[str, ...] = ()) -> list[dict]:
    """helm template the chart under `root`; returns the parsed documents (a deep copy)."""
    key = (helm, str(root), values, extra)
    if key not in _render_cache:
        result = _helm_run(helm, root, *_template_args(values, extra))
        assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
        _render_cache[key] = _parse(result.stdout)
    return copy.deepcopy(_render_cache[key])


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def docs(request: pytest.FixtureRequest, helm: str, deploy_root: Path) -> list[dict]:
    """Rendered documents, once with the default values and once with the production values."""
    return render(helm, deploy_root, VALUE_SETS[request.param])


@pytest.fixture(scope="module")
def prod_docs(helm: str, deploy_root: Path) -> list[dict]:
    return render(helm, deploy_root, (PROD_VALUES,))


@pytest.fixture(scope="module")
def default_docs(helm: str, deploy_root: Path) -> list[dict]:
    return render(helm, deploy_root)


def find(docs: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    return [
        d
        for d in docs
        if d["kind"] == kind
        and (name is None or d["metadata"]["name"] == name)
        and (namespace is None or d["metadata"].get("namespace") == namespace)
    ]


def one(docs: list[dict], kind: str, name: str | None = None, namespace: str | None = None) -> dict:
    found = find(docs, kind, name, namespace)
    assert len(found) == 1, (
        f"expected one {kind} {name or ''} in {namespace or 'any namespace'}, found {len(found)}"
    )
    return found[0]


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def load_values(path: Path) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


# ------------------------------------------------------------------------------------------------
# helm itself, lint, template, Kubernetes schemas


def test_helm_runs(helm: str) -> None:
    result = subprocess.run(
        [helm, "version", "--short"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert re.match(r"v[34]\.", result.stdout.strip()), result.stdout


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_helm_lint(helm: str, deploy_root: Path, value_set: str) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for path in VALUE_SETS[value_set]:
        args += ["-f", str(path)]
    result = _helm_run(helm, deploy_root, *args)
    assert result.returncode == 0, f"helm lint failed:\n{result.stdout}\n{result.stderr}"
    assert "0 chart(s) failed" in result.stdout


def test_renders_the_expected_objects(docs: list[dict]) -> None:
    names = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in docs}
    expected = {
        ("ServiceAccount", "costsim", NAMESPACE),
        ("ConfigMap", "costsim-config", NAMESPACE),
        ("Deployment", "costsim-user-code", NAMESPACE),
        ("Service", "costsim-user-code", NAMESPACE),
        ("Deployment", "costsim-api", NAMESPACE),
        ("Service", "costsim-api", NAMESPACE),
        ("Namespace", SANDBOX_NAMESPACE, None),
        ("ResourceQuota", "costsim-v2-sandbox", SANDBOX_NAMESPACE),
        ("LimitRange", "costsim-v2-sandbox", SANDBOX_NAMESPACE),
        ("ServiceAccount", "costsim-v2-sandbox", SANDBOX_NAMESPACE),
        ("NetworkPolicy", "default-deny-all", SANDBOX_NAMESPACE),
        ("NetworkPolicy", "allow-dns-egress", SANDBOX_NAMESPACE),
        ("NetworkPolicy", "allow-database-egress", SANDBOX_NAMESPACE),
        ("Role", "costsim-v2-sandbox-launcher", SANDBOX_NAMESPACE),
        ("RoleBinding", "costsim-v2-sandbox-launcher", SANDBOX_NAMESPACE),
        ("Job", "costsim-migrations", NAMESPACE),
    }
    assert expected <= names, f"missing: {expected - names}"
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert all(d["metadata"].get("namespace") in {NAMESPACE, SANDBOX_NAMESPACE} for d in namespaced)
    assert len(names) == len(docs), "two rendered objects share kind, name and namespace"


def test_every_object_validates_against_kubernetes_schemas(docs: list[dict]) -> None:
    validated, skipped = [], []
    for doc in docs:
        kind = (doc["apiVersion"], doc["kind"])
        if kind in CRD_KINDS:
            skipped.append(kind)
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {error.message}")
        validated.append(kind)
    assert len(validated) >= 15
    assert set(skipped) <= CRD_KINDS


def test_production_renders_the_monitoring_objects_and_default_does_not(
    default_docs: list[dict], prod_docs: list[dict]
) -> None:
    assert not find(default_docs, "PrometheusRule") and not find(default_docs, "ServiceMonitor")
    assert len(find(prod_docs, "PrometheusRule")) == 1 and len(find(prod_docs, "ServiceMonitor")) == 1
    assert one(prod_docs, "PodDisruptionBudget", "costsim-api")["spec"]["minAvailable"] == 2


# ------------------------------------------------------------------------------------------------
# workloads


def test_user_code_runs_the_grpc_server_with_exec_health_probes(docs: list[dict]) -> None:
    deployment = one(docs, "Deployment", "costsim-user-code")
    c = container(deployment)
    assert c["command"] + c["args"] == [
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
    assert c["ports"] == [{"name": "grpc", "containerPort": 3030, "protocol": "TCP"}]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["exec"]["command"] == GRPC_HEALTH, probe
        assert c[probe]["timeoutSeconds"] >= 5, "the health-check CLI needs a few seconds to start"
    env = {e["name"]: e for e in c["env"]}
    assert env["DAGSTER_CURRENT_IMAGE"]["value"] == c["image"]
    service = one(docs, "Service", "costsim-user-code")
    assert service["spec"]["ports"] == [
        {"name": "grpc", "port": 3030, "targetPort": "grpc", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_api_runs_uvicorn_with_http_health_probes(docs: list[dict]) -> None:
    deployment = one(docs, "Deployment", "costsim-api")
    c = container(deployment)
    assert c["command"] + c["args"] == ["costsim", "api", "--host", "0.0.0.0", "--port", "8080"]
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8080}
    service = one(docs, "Service", "costsim-api")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("name", ["costsim-user-code", "costsim-api"])
def test_workloads_are_locked_down(docs: list[dict], name: str) -> None:
    pod = one(docs, "Deployment", name)["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] > 0 and psc["fsGroup"] > 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    c = pod["containers"][0]
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) == {"cpu", "memory"}, kind
    # read-only root filesystem: /tmp and DAGSTER_HOME must be writable emptyDirs
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    dagster_home = next(e["value"] for e in c["env"] if e["name"] == "DAGSTER_HOME")
    for path in ("/tmp", dagster_home):
        assert path in mounts, f"{path} is not mounted"
        assert "emptyDir" in volumes[mounts[path]], f"{path} is not an emptyDir"
    artifact_root = one(docs, "ConfigMap", "costsim-config")["data"]["COSTSIM_ARTIFACT_ROOT"]
    assert artifact_root in mounts


def test_production_shares_the_artifact_volume(prod_docs: list[dict]) -> None:
    for name in ("costsim-user-code", "costsim-api"):
        volumes = {
            v["name"]: v for v in one(prod_docs, "Deployment", name)["spec"]["template"]["spec"]["volumes"]
        }
        assert volumes["artifacts"]["persistentVolumeClaim"] == {"claimName": "costsim-artifacts"}


# ------------------------------------------------------------------------------------------------
# configuration and secrets


def test_no_secret_objects_and_secrets_only_by_reference(docs: list[dict]) -> None:
    assert not find(docs, "Secret"), "the chart must never render a Secret"
    values = load_values(CHART / "values.yaml")["secrets"]
    for name in ("costsim-user-code", "costsim-api"):
        c = container(one(docs, "Deployment", name))
        env = {e["name"]: e for e in c["env"]}
        assert SECRET_ENV <= set(env), f"{name} lacks {SECRET_ENV - set(env)}"
        for var in SECRET_ENV:
            assert "value" not in env[var], f"{name}: {var} has a literal value"
            assert set(env[var]["valueFrom"]) == {"secretKeyRef"}
        assert c["envFrom"] == [{"configMapRef": {"name": "costsim-config"}}]
        ref = env["COSTSIM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (values["databaseUrl"]["name"], values["databaseUrl"]["key"])
    config = one(docs, "ConfigMap", "costsim-config")["data"]
    assert not SECRET_ENV & set(config), "a secret variable leaked into the ConfigMap"


def test_api_key_file_is_a_mounted_secret(docs: list[dict]) -> None:
    pod = one(docs, "Deployment", "costsim-api")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "api-keys")
    assert volume["secret"]["secretName"] == "costsim-api-keys"
    assert volume["secret"]["items"] == [{"key": "api-keys", "path": "api-keys"}]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "api-keys")
    assert mount["readOnly"] is True
    keys_file = one(docs, "ConfigMap", "costsim-config")["data"]["COSTSIM_API_KEYS_FILE"]
    assert keys_file == f"{mount['mountPath']}/api-keys"


def test_configmap_holds_the_non_secret_settings(docs: list[dict]) -> None:
    data = one(docs, "ConfigMap", "costsim-config")["data"]
    assert CONFIG_ENV <= set(data)
    assert data["COSTSIM_V2_SANDBOX"] in {"true", "false"}
    assert all(isinstance(v, str) for v in data.values())


def test_configmap_renders_tenant_config_with_defaults(
    default_docs: list[dict], prod_docs: list[dict]
) -> None:
    defaults = load_values(CHART / "values.yaml")["tenantDefaults"]
    default_tenants = yaml.safe_load(one(default_docs, "ConfigMap", "costsim-config")["data"]["tenants.yaml"])
    assert default_tenants == {"defaults": defaults, "tenants": {}}
    assert set(defaults["drift"]) == {"warn", "fail"}
    assert set(defaults["rateLimit"]) == {"requestsPerSecond", "burst"}

    prod = yaml.safe_load(one(prod_docs, "ConfigMap", "costsim-config")["data"]["tenants.yaml"])
    overrides = load_values(PROD_VALUES)["tenants"]
    assert prod["defaults"] == defaults
    assert set(prod["tenants"]) == set(overrides)
    for tenant, override in overrides.items():
        for section in ("drift", "rateLimit"):
            assert prod["tenants"][tenant][section] == {**defaults[section], **override.get(section, {})}
    tenants_file = one(prod_docs, "ConfigMap", "costsim-config")["data"]["COSTSIM_TENANTS_FILE"]
    mounts = container(one(prod_docs, "Deployment", "costsim-api"))["volumeMounts"]
    assert any(tenants_file == f"{m['mountPath']}/tenants.yaml" for m in mounts if m["name"] == "config")


def test_tenant_overrides_from_the_command_line(helm: str, deploy_root: Path) -> None:
    docs = render(helm, deploy_root, extra=("--set-json", "tenants.acme.drift.fail=0.4"))
    tenants = yaml.safe_load(one(docs, "ConfigMap", "costsim-config")["data"]["tenants.yaml"])["tenants"]
    assert tenants["acme"]["drift"] == {"warn": 0.3, "fail": 0.4}
    assert tenants["acme"]["rateLimit"] == {"requestsPerSecond": 50, "burst": 100}


# ------------------------------------------------------------------------------------------------
# the V2 sandbox namespace


def test_sandbox_namespace_has_quota_and_limits(docs: list[dict]) -> None:
    namespace = one(docs, "Namespace", SANDBOX_NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    quota = one(docs, "ResourceQuota", namespace=SANDBOX_NAMESPACE)["spec"]["hard"]
    assert {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods"} <= set(quota)
    assert quota["services.loadbalancers"] == "0" and quota["services.nodeports"] == "0"
    limits = one(docs, "LimitRange", namespace=SANDBOX_NAMESPACE)["spec"]["limits"][0]
    assert limits["type"] == "Container" and {"default", "defaultRequest", "max"} <= set(limits)
    account = one(docs, "ServiceAccount", namespace=SANDBOX_NAMESPACE)
    assert account["automountServiceAccountToken"] is False


def _sandbox_policies(docs: list[dict], namespace: str = SANDBOX_NAMESPACE) -> list[dict]:
    policies = find(docs, "NetworkPolicy", namespace=namespace)
    assert policies, f"no NetworkPolicy in {namespace}"
    return policies


def test_sandbox_default_denies_all_ingress_and_egress(docs: list[dict]) -> None:
    policies = _sandbox_policies(docs)
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert len(deny) == 1, "a default-deny (ingress + egress) policy selecting every pod is required"
    for policy in policies:
        assert not policy["spec"].get("ingress"), f"{policy['metadata']['name']} allows ingress"


def _allowed_egress(docs: list[dict], namespace: str = SANDBOX_NAMESPACE) -> list[tuple[dict, list[dict]]]:
    rules = []
    for policy in _sandbox_policies(docs, namespace):
        for rule in policy["spec"].get("egress") or []:
            assert rule.get("to"), f"{policy['metadata']['name']}: egress rule without `to` allows every peer"
            assert rule.get("ports"), (
                f"{policy['metadata']['name']}: egress rule without `ports` allows every port"
            )
            for peer in rule["to"]:
                rules.append((peer, rule["ports"]))
    return rules


def _is_dns(peer: dict, ports: list[dict]) -> bool:
    return (
        peer.get("namespaceSelector") == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
        and peer.get("podSelector") == {"matchLabels": {"k8s-app": "kube-dns"}}
        and sorted((p["protocol"], p["port"]) for p in ports) == [("TCP", 53), ("UDP", 53)]
    )


def _database_peers(values: dict) -> list[tuple[dict, list[dict]]]:
    peers = []
    for endpoint in values["sandbox"]["database"]["endpoints"]:
        peer = (
            {"ipBlock": {"cidr": endpoint["cidr"]}}
            if "cidr" in endpoint
            else {"namespaceSelector": endpoint["namespaceSelector"], "podSelector": endpoint["podSelector"]}
        )
        peers.append((peer, [{"protocol": "TCP", "port": endpoint["port"]}]))
    return peers


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_sandbox_egress_is_only_dns_and_the_database(helm: str, deploy_root: Path, value_set: str) -> None:
    docs = render(helm, deploy_root, VALUE_SETS[value_set])
    values = load_values(CHART / "values.yaml")
    for path in VALUE_SETS[value_set]:
        values["sandbox"].update(load_values(path).get("sandbox", {}))
    database = _database_peers(values)
    egress = _allowed_egress(docs)
    dns = [(peer, ports) for peer, ports in egress if _is_dns(peer, ports)]
    others = [(peer, ports) for peer, ports in egress if not _is_dns(peer, ports)]
    assert dns, "DNS egress to kube-system on UDP/TCP 53 is missing"
    assert others == database, "sandbox egress must go to the database's sandbox endpoint only"
    for peer, _ in others:
        assert "ipBlock" not in peer or "except" not in peer["ipBlock"]
        assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0"


def test_sandbox_namespace_name_comes_from_values(helm: str, deploy_root: Path) -> None:
    docs = render(helm, deploy_root, extra=("--set", "sandbox.namespace=v2-lab"))
    assert one(docs, "Namespace", "v2-lab")
    assert one(docs, "ResourceQuota", namespace="v2-lab")
    assert len(_sandbox_policies(docs, "v2-lab")) == 3
    assert not find(docs, "NetworkPolicy", namespace=SANDBOX_NAMESPACE)


def test_sandbox_can_be_switched_off(helm: str, deploy_root: Path) -> None:
    docs = render(helm, deploy_root, extra=("--set", "sandbox.enabled=false"))
    assert not [d for d in docs if d["metadata"].get("namespace") == SANDBOX_NAMESPACE]
    assert not find(docs, "Namespace")


# ------------------------------------------------------------------------------------------------
# Prometheus


def test_chart_reads_the_one_rules_file_through_a_symlink() -> None:
    assert CHART_ALERTS_LINK.is_symlink(), "files/costsim-alerts.yml must be a symlink, not a copy"
    assert os.readlink(CHART_ALERTS_LINK) == "../../../prometheus/costsim-alerts.yml"
    assert (CHART_ALERTS_LINK.parent / os.readlink(CHART_ALERTS_LINK)).resolve() == (ROOT / ALERTS).resolve()


def test_prometheus_rule_has_the_groups_of_the_rules_file(prod_docs: list[dict], deploy_root: Path) -> None:
    rule = one(prod_docs, "PrometheusRule", "costsim-alerts", NAMESPACE)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    source = yaml.safe_load((deploy_root / ALERTS).read_text())
    assert rule["spec"]["groups"] == source["groups"]
    assert rule["spec"]["groups"], "no rule groups rendered"


def test_service_monitor_scrapes_the_api_metrics(prod_docs: list[dict]) -> None:
    monitor = one(prod_docs, "ServiceMonitor", "costsim-api", NAMESPACE)
    service = one(prod_docs, "Service", "costsim-api")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


# ------------------------------------------------------------------------------------------------
# deploy/k8s: rendered, checked in, up to date


def test_rendered_k8s_manifests_are_up_to_date(helm: str, tmp_path: Path) -> None:
    assert (ROOT / ALERTS).is_file(), (
        f"{ALERTS} is missing, so deploy/k8s/costsim.yaml cannot be re-rendered and compared"
    )
    out = tmp_path / "costsim.yaml"
    result = subprocess.run(
        ["bash", str(RENDER_SCRIPT), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HELM": helm},
    )
    assert result.returncode == 0, result.stderr
    assert K8S_MANIFEST.is_file(), "deploy/k8s/costsim.yaml is missing: run scripts/render-k8s.sh"
    assert out.read_bytes() == K8S_MANIFEST.read_bytes(), (
        "deploy/k8s/costsim.yaml is stale: run scripts/render-k8s.sh and commit the result"
    )


def test_rendered_k8s_manifests_are_the_production_render(prod_docs: list[dict]) -> None:
    checked_in = _parse(K8S_MANIFEST.read_text())
    assert checked_in == prod_docs


# ------------------------------------------------------------------------------------------------
# values.schema.json and values.yaml


BAD_VALUES = {
    "replicas-as-string": {"api": {"replicas": "2"}},
    "user-code-replicas-as-string": {"userCode": {"replicas": "1"}},
    "api-port-as-string": {"api": {"port": "8080"}},
    "grpc-port-as-string": {"userCode": {"port": "3030"}},
    "port-out-of-range": {"api": {"port": 70000}},
    "probe-timeout-as-string": {"api": {"probes": {"readiness": {"timeoutSeconds": "3"}}}},
    "probe-path-not-absolute": {"api": {"probes": {"liveness": {"path": "healthz"}}}},
    "writable-root-filesystem": {"securityContext": {"readOnlyRootFilesystem": False}},
    "privilege-escalation": {"securityContext": {"allowPrivilegeEscalation": True}},
    "run-as-root-allowed": {"podSecurityContext": {"runAsNonRoot": False}},
    "unknown-top-level-key": {"replicaCount": 3},
    "secret-without-key": {"secrets": {"databaseUrl": {"name": "x", "key": ""}}},
    "sandbox-flag-as-string": {"config": {"v2Sandbox": "true"}},
    "drift-threshold-above-one": {"tenants": {"acme": {"drift": {"warn": 1.5}}}},
    "rate-limit-as-string": {"tenantDefaults": {"rateLimit": {"requestsPerSecond": "50"}}},
    "burst-as-float": {"tenants": {"acme": {"rateLimit": {"burst": 1.5}}}},
    "db-endpoint-without-port": {"sandbox": {"database": {"endpoints": [{"cidr": "10.0.0.1/32"}]}}},
    "db-endpoint-cidr-and-selector": {
        "sandbox": {
            "database": {
                "endpoints": [
                    {"cidr": "10.0.0.1/32", "port": 5432, "namespaceSelector": {}, "podSelector": {}}
                ]
            }
        }
    },
    "no-db-endpoint": {"sandbox": {"database": {"endpoints": []}}},
    "bad-namespace-name": {"sandbox": {"namespace": "V2_Sandbox"}},
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(helm: str, deploy_root: Path, tmp_path: Path, case: str) -> None:
    bad = tmp_path / f"{case}.yaml"
    bad.write_text(yaml.safe_dump(BAD_VALUES[case]))
    lint = _helm_run(helm, deploy_root, "lint", str(CHART), "-f", str(bad))
    assert lint.returncode != 0, f"helm lint accepted {BAD_VALUES[case]}"
    assert "schema" in (lint.stdout + lint.stderr).lower()
    template = _helm_run(helm, deploy_root, *_template_args((bad,)))
    assert template.returncode != 0, f"helm template accepted {BAD_VALUES[case]}"
    assert "schema" in template.stderr.lower()


def test_values_yaml_is_commented_line_by_line() -> None:
    """Every key of values.yaml has a comment on its line or on the line(s) just above it."""
    lines = (ROOT / CHART / "values.yaml").read_text().splitlines()
    key = re.compile(r"^\s*(- )?[A-Za-z0-9_.\-/]+:")
    uncommented = []
    for number, line in enumerate(lines):
        if not key.match(line) or "#" in line:
            continue
        above = next((lines[i].strip() for i in range(number - 1, -1, -1) if lines[i].strip()), "")
        if above.startswith("#"):
            continue
        # keys nested inside an inline example or a list item inherit the comment of their parent
        indent = len(line) - len(line.lstrip())
        parent = next(
            (
                lines[i]
                for i in range(number - 1, -1, -1)
                if lines[i].strip()
                and not lines[i].lstrip().startswith("#")
                and len(lines[i]) - len(lines[i].lstrip()) < indent
            ),
            "",
        )
        parent_code = parent.split(" #")[0].rstrip()
        if parent_code.lstrip().startswith("- ") or parent_code.endswith(("matchLabels:", "podLabels:")):
            continue
        uncommented.append(f"{number + 1}: {line.strip()}")
    assert not uncommented, "values.yaml keys without a comment:\n" + "\n".join(uncommented)


def test_values_files_hold_no_secret_material() -> None:
    credential_url = re.compile(r"://[^/\s:@]+:[^@\s]+@")
    for path in (CHART / "values.yaml", PROD_VALUES, DAGSTER_VALUES.relative_to(ROOT)):
        text = (ROOT / path).read_text()
        assert not credential_url.search(text), f"{path} has credentials in a URL"
        data = yaml.safe_load(text)
        for key, value in _walk(data):
            if re.search(r"password|token|apikey|salt$", key.lower()) and isinstance(value, str) and value:
                pytest.fail(f"{path}: {key} holds a literal value")


def _walk(node, prefix: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, str(key))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, prefix)
    else:
        yield prefix, node


# ------------------------------------------------------------------------------------------------
# deploy/helm/dagster-values.yaml (Dagster's official chart) agrees with this chart


@pytest.fixture(scope="module")
def dagster_values() -> dict:
    return yaml.safe_load(DAGSTER_VALUES.read_text())


def test_dagster_workspace_points_at_the_user_code_service(
    dagster_values: dict, prod_docs: list[dict]
) -> None:
    assert dagster_values["dagster-user-deployments"]["enabled"] is False
    workspace = dagster_values["dagsterWebserver"]["workspace"]
    assert workspace["enabled"] is True
    service = one(prod_docs, "Service", "costsim-user-code")
    assert [(s["host"], s["port"]) for s in workspace["servers"]] == [
        (service["metadata"]["name"], service["spec"]["ports"][0]["port"])
    ]


def test_dagster_uses_external_postgres_with_password_from_a_secret(dagster_values: dict) -> None:
    postgresql = dagster_values["postgresql"]
    assert postgresql["enabled"] is False
    assert (
        postgresql["postgresqlHost"] and postgresql["postgresqlUsername"] and postgresql["postgresqlDatabase"]
    )
    assert not postgresql.get("postgresqlPassword"), "the password must come from a Secret"
    assert dagster_values["generatePostgresqlPasswordSecret"] is False
    assert dagster_values["global"]["postgresqlSecretName"]


def test_dagster_run_launcher_uses_the_costsim_image_config_and_secrets(
    dagster_values: dict, prod_docs: list[dict]
) -> None:
    launcher = dagster_values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    config = launcher["config"]["k8sRunLauncher"]
    prod = load_values(PROD_VALUES)
    assert config["image"]["repository"] == prod["image"]["repository"]
    assert config["image"]["tag"] == prod["image"]["tag"]
    assert {"name": "costsim-config"} in config["envConfigMaps"]
    assert one(prod_docs, "ConfigMap", "costsim-config")
    # the same secret references as the chart's containers, key for key
    chart_env = {
        e["name"]: e["valueFrom"]
        for e in container(one(prod_docs, "Deployment", "costsim-api"))["env"]
        if e["name"] in SECRET_ENV
    }
    run_env = {e["name"]: e["valueFrom"] for e in config["runK8sConfig"]["containerConfig"]["env"]}
    assert run_env == chart_env
    # same locked-down posture, and the shared artifact volume of the production chart
    sc = config["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"] for m in config["volumeMounts"]}
    configmap = one(prod_docs, "ConfigMap", "costsim-config")["data"]
    assert {"/tmp", "/opt/dagster/dagster_home", configmap["COSTSIM_ARTIFACT_ROOT"]} <= mounts
    claims = [
        v["persistentVolumeClaim"]["claimName"] for v in config["volumes"] if "persistentVolumeClaim" in v
    ]
    assert claims == [prod["artifacts"]["existingClaim"]]
    # runs read the tenants file (per-tenant drift thresholds) where the ConfigMap says it is
    [config_volume] = [v for v in config["volumes"] if "configMap" in v]
    assert config_volume["configMap"]["name"] == "costsim-config"
    [config_mount] = [m for m in config["volumeMounts"] if m["name"] == config_volume["name"]]
    assert configmap["COSTSIM_TENANTS_FILE"] == f"{config_mount['mountPath']}/tenants.yaml"


def test_the_migration_job_migrates_and_provisions_roles_before_the_workloads(docs: list[dict]) -> None:
    job = one(docs, "Job", "costsim-migrations")
    assert set(job["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    pod = job["spec"]["template"]["spec"]
    [migrate] = pod["containers"]
    assert migrate["command"] == ["costsim", "db", "provision-roles"]
    env = {e["name"]: e for e in migrate["env"]}
    secrets = load_values(CHART / "values.yaml")["secrets"]
    assert (
        env["COSTSIM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
        == secrets["ownerDatabaseUrl"]["name"]
    )
    for name in ("COSTSIM_APP_DB_PASSWORD", "COSTSIM_SANDBOX_DB_PASSWORD"):
        assert set(env[name]["valueFrom"]) == {"secretKeyRef"}
    assert (env["COSTSIM_APP_DB_ROLE"]["value"], env["COSTSIM_SANDBOX_DB_ROLE"]["value"]) == (
        "costsim_app",
        "costsim_v2_sandbox",
    )
    assert (
        pod["automountServiceAccountToken"] is False and migrate["securityContext"]["readOnlyRootFilesystem"]
    )
