"""The deployment files hold together without a Docker engine or a cluster: compose and the
Kubernetes manifests parse, name the same image build, the app's port matches the probes
and the Service, every MAILY_* variable is a setting, every service has a health check, the
HPAs scale Deployments that exist, the Dockerfile has its three stages and runs as non-root,
and the Grafana dashboard only uses metrics the app exports."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PREFECT_PIN = re.search(r'"prefect==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
IMAGE = f"maily-flow:{VERSION}"
SETTINGS = {f"MAILY_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def manifests() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                doc["_file"] = path.name
                docs.append(doc)
    return docs


def by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in manifests() if d.get("kind") == kind}


def containers() -> list[tuple[str, dict]]:
    out = []
    for d in manifests():
        spec = d.get("spec", {}).get("template", {}).get("spec", {})
        out += [(d["metadata"]["name"], c) for c in spec.get("containers", [])]
    return out


def env_names(text: str) -> set[str]:
    return set(re.findall(r"\b(MAILY_[A-Z0-9_]+)\b", text))


# --- compose ----------------------------------------------------------------------------

def test_compose_has_every_service_with_a_health_check():
    services = compose()["services"]
    assert {"postgres", "redis", "prefect", "app", "worker", "mailpit"} <= set(services)
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert svc.get("image"), f"{name} names no image"


def test_compose_app_migrates_then_serves_and_workers_scale():
    services = compose()["services"]
    app, worker = services["app"], services["worker"]
    command = " ".join(app["command"])
    assert "maily migrate" in command and command.index("maily migrate") < command.index("maily serve")
    assert worker["command"] == ["maily", "worker"]
    assert worker["deploy"]["replicas"] >= 1
    assert app["image"] == worker["image"] == IMAGE
    assert app["build"]["dockerfile"] == "Dockerfile"
    assert services["prefect"]["image"].startswith(f"prefecthq/prefect:{PREFECT_PIN}-")
    # the published port is the app's port, and its health check asks it
    port = app["environment"]["MAILY_PORT"]
    assert any(p.endswith(f":{port}") for p in app["ports"])
    assert f":{port}/api/health" in " ".join(app["healthcheck"]["test"])


def test_compose_environment_is_consistent_with_settings_and_services():
    doc = compose()
    services = doc["services"]
    for name in ("app", "worker"):
        env = services[name]["environment"]
        unknown = {k for k in env if k.startswith("MAILY_")} - SETTINGS
        assert not unknown, f"{name}: {unknown} are not settings of backend/settings.py"
        assert env["MAILY_MODE"] == "production"
        assert env["PREFECT_API_URL"] == "http://prefect:4200/api"
        assert "@postgres:5432/" in env["MAILY_DATABASE_URL"] and env["MAILY_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["MAILY_REDIS_URL"].startswith("redis://redis:6379")
        assert "mailpit" in env["MAILY_HTTP_ALLOWED_HOSTS"]
        assert {"postgres", "redis"} <= set(_depends(services, name))
    assert env_names((ROOT / "docker-compose.yml").read_text()) <= SETTINGS
    assert "postgres:5432/prefect" in services["prefect"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    init = services["postgres"]["volumes"][1].split(":")[0]
    assert "CREATE DATABASE prefect" in (ROOT / init).read_text()
    for name, svc in services.items():
        for dep in _depends(services, name):
            assert dep in services, f"{name} depends on unknown service {dep}"


def _depends(services: dict, name: str) -> list[str]:
    deps = services[name].get("depends_on", [])
    direct = list(deps) if isinstance(deps, (list, dict)) else []
    return direct + [d for dep in direct for d in _depends(services, dep)]


# --- Dockerfile -------------------------------------------------------------------------

def test_dockerfile_stages_non_root_runtime_and_editor_dist():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, re.M)
    assert [s[1] for s in stages] == ["editor", "python", "runtime"]
    assert stages[0][0].startswith("node:")
    assert "npm ci" in text and "npm run build" in text
    runtime = text.split("AS runtime", 1)[1]
    assert "COPY --from=editor /src/editor/dist /app/editor/dist" in runtime
    assert "COPY --from=python /opt/venv /opt/venv" in runtime
    user = re.search(r"^USER\s+(\S+)", runtime, re.M)
    assert user and user.group(1).split(":")[0] not in ("0", "root")
    assert re.search(r"^EXPOSE 8000$", runtime, re.M) and "HEALTHCHECK" in runtime and "/api/health" in runtime
    assert env_names(text) <= SETTINGS
    # the app looks for the editor at <repo>/editor/dist and for migrations at <repo>/migrations
    from backend.app import EDITOR_DIST
    from backend.db.migrate import MIGRATIONS_DIR

    assert EDITOR_DIST.relative_to(ROOT) == Path("editor/dist")
    assert MIGRATIONS_DIR.relative_to(ROOT) == Path("migrations") and "COPY migrations/ migrations/" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "editor/node_modules", "editor/dist"} <= set(ignored)


# --- Kubernetes -------------------------------------------------------------------------

def test_manifests_parse_and_live_in_one_namespace():
    docs = manifests()
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler", "Job",
            "Ingress"} <= kinds
    ns = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == ns, d["_file"]
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert all((K8S / f).is_file() for f in listed)
    assert "secret.example.yaml" not in listed


def test_app_port_matches_probes_and_service():
    app = by_kind("Deployment")["maily-app"]
    (container,) = app["spec"]["template"]["spec"]["containers"]
    port = container["ports"][0]["containerPort"]
    config = by_kind("ConfigMap")["maily-config"]["data"]
    assert int(config["MAILY_PORT"]) == port
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/api/health", "port": port}
    service = by_kind("Service")["maily-app"]
    assert service["spec"]["ports"][0]["targetPort"] == port
    assert service["spec"]["selector"].items() <= app["spec"]["template"]["metadata"]["labels"].items()
    assert app["spec"]["selector"]["matchLabels"].items() <= app["spec"]["template"]["metadata"]["labels"].items()
    ingress = by_kind("Ingress")["maily"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "maily-app" and backend["port"]["number"] == service["spec"]["ports"][0]["port"]
    prefect = by_kind("Deployment")["prefect"]["spec"]["template"]["spec"]["containers"][0]
    assert by_kind("Service")["prefect"]["spec"]["ports"][0]["targetPort"] == prefect["ports"][0]["containerPort"]
    assert f":{prefect['ports'][0]['containerPort']}/api" in config["PREFECT_API_URL"]


def test_images_commands_and_env_are_the_same_build_as_compose():
    services = compose()["services"]
    images = {name: c["image"] for name, c in containers()}
    assert images["maily-app"] == images["maily-worker"] == images["maily-migrate"] == services["app"]["image"] == IMAGE
    assert images["prefect"] == services["prefect"]["image"]
    commands = {name: c["args"] for name, c in containers()}
    assert commands["maily-app"] == ["maily", "serve"]
    assert commands["maily-worker"] == ["maily", "worker"]
    assert commands["maily-migrate"] == ["maily", "migrate"]
    config = by_kind("ConfigMap")["maily-config"]["data"]
    secret = by_kind("Secret")["maily-secrets"]["stringData"]
    assert config["MAILY_MODE"] == "production"
    for key in {*config, *secret}:
        assert not key.startswith("MAILY_") or key in SETTINGS, f"{key} is not a setting"
    for path in K8S.glob("*.yaml"):
        assert env_names(path.read_text()) <= SETTINGS, path.name
    assert {"MAILY_DATABASE_URL", "MAILY_REDIS_URL", "MAILY_SECRET_KEY", "MAILY_METRICS_TOKEN"} <= set(secret)
    for name, c in containers():
        for ref in c.get("envFrom", []):
            if "configMapRef" in ref:
                assert ref["configMapRef"]["name"] in by_kind("ConfigMap")
            if "secretRef" in ref:
                assert ref["secretRef"]["name"] in by_kind("Secret")
        for var in c.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in by_kind("Secret")[ref["name"]]["stringData"]


def test_pods_run_as_non_root():
    for d in manifests():
        spec = d.get("spec", {}).get("template", {}).get("spec")
        if spec and d["metadata"]["name"] != "prefect":
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["runAsUser"] != 0


def test_hpas_target_deployments_that_exist():
    hpas = by_kind("HorizontalPodAutoscaler")
    deployments = by_kind("Deployment")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"maily-app", "maily-worker"}
    for hpa in hpas.values():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["name"] in deployments
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # CPU utilisation targets need requests on the target's containers
        for c in deployments[ref["name"]]["spec"]["template"]["spec"]["containers"]:
            assert c["resources"]["requests"]["cpu"]


# --- Grafana ------------------------------------------------------------------------------

def test_dashboard_uses_only_exported_metrics():
    import backend.metrics  # noqa: F401 - registers the metrics
    from flows.observe import REGISTRY

    exported = set()
    for family in REGISTRY.collect():
        exported |= {s.name for s in family.samples} | {family.name}
        if family.type == "counter":
            exported.add(f"{family.name}_total")
        if family.type == "histogram":
            exported |= {f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"}
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "maily.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(maily_[a-z0-9_]+)\b", target["expr"]))
    assert used, "the dashboard queries no metric"
    assert used <= exported, f"not exported: {sorted(used - exported)}"
    families = {f.name for f in REGISTRY.collect()}
    for wanted in ("maily_runs", "maily_node_duration_seconds", "maily_run_queue_depth", "maily_ai_tokens",
                   "maily_ai_cost_usd", "maily_emails", "maily_websocket_connections"):
        assert wanted in families
        assert any(wanted in u for u in used), f"the dashboard does not show {wanted}"


@pytest.mark.parametrize("path", ["docker-compose.yml", *[f"deploy/k8s/{p.name}" for p in sorted(K8S.glob('*.yaml'))]])
def test_every_yaml_file_parses(path):
    assert list(yaml.safe_load_all((ROOT / path).read_text()))


# --- Prefect settings named in the docs and manifests --------------------------------------
# The fields of prefect_redis.client.RedisMessagingSettings in prefect-redis 0.3.0 (env prefix
# PREFECT_REDIS_MESSAGING_, from `build_settings_config(("redis", "messaging"))`); prefect-redis
# is not a dependency of this repo: it goes into the Prefect server's image.
PREFECT_REDIS_MESSAGING = {f"PREFECT_REDIS_MESSAGING_{f}" for f in (
    "URL", "HOST", "PORT", "DB", "USERNAME", "PASSWORD", "HEALTH_CHECK_INTERVAL", "SSL", "SOCKET_TIMEOUT",
    "SOCKET_CONNECT_TIMEOUT", "PROTOCOL")}
PREFECT_REDIS_MODULES = {"prefect_redis.messaging", "prefect_redis.ordering", "prefect_redis.lease_storage"}


def prefect_setting_names() -> set[str]:
    from prefect.settings.legacy import _get_valid_setting_names
    from prefect.settings.models.root import Settings as PrefectSettings

    return set(_get_valid_setting_names(PrefectSettings))


def prefect_names_in(text: str) -> set[str]:
    # a trailing underscore is a family written `PREFECT_REDIS_MESSAGING_HOST / _PORT`: the stem is not a name
    return {n for n in re.findall(r"\b(PREFECT_[A-Z0-9_]+)\b", text) if not n.endswith("_")}


def test_every_prefect_setting_named_in_docs_and_manifests_exists():
    """Each PREFECT_* name in production/operations docs, compose and the manifests is a setting of the
    pinned Prefect, or a prefect-redis messaging setting: a misspelt name would be silently ignored."""
    real = prefect_setting_names() | PREFECT_REDIS_MESSAGING
    sources = [ROOT / "docs" / "production.md", ROOT / "docs" / "operations.md", ROOT / "docker-compose.yml",
               *sorted(K8S.glob("*.yaml"))]
    unknown = {f"{p.name}: {n}" for p in sources for n in prefect_names_in(p.read_text()) if n not in real}
    assert not unknown, sorted(unknown)
    assert {"PREFECT_MESSAGING_BROKER", "PREFECT_MESSAGING_CACHE", "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING",
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", "PREFECT_SERVER_DOCKET_URL"} <= prefect_setting_names()


def test_the_redis_modules_the_docs_name_are_the_ones_prefect_redis_ships():
    """production.md names exactly the prefect_redis modules that implement broker, cache, ordering and leases."""
    named = set(re.findall(r"\bprefect_redis\.[a-z_]+\b", (ROOT / "docs" / "production.md").read_text()))
    named.discard("prefect_redis.client")          # where the connection settings live, not a module setting
    assert named == PREFECT_REDIS_MODULES


def test_prefect_redis_settings_match_the_installed_package_when_there_is_one():
    """When prefect-redis is importable, its messaging settings are exactly the names listed above."""
    try:
        from prefect_redis.client import RedisMessagingSettings
    except ImportError:
        return      # not a dependency here; the list above was read from prefect-redis 0.3.0's client.py
    prefix = RedisMessagingSettings.model_config["env_prefix"]
    assert prefix == "PREFECT_REDIS_MESSAGING_"
    assert {prefix + f.upper() for f in RedisMessagingSettings.model_fields} == PREFECT_REDIS_MESSAGING
