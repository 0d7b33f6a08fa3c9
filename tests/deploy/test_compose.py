import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.case_state.topic import TOPIC_CONFIGS
from services.common.settings import HubSettings
from services.registry import PROCESSES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDER = DEPLOY / "grafana" / "provisioning" / "dashboards" / "hub.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "hub.json"
INIT_SQL = DEPLOY / "postgres" / "init.sql"
YAML_FILES = (COMPOSE, PROMETHEUS, ALERTS, DATASOURCE, DASHBOARD_PROVIDER)

# The hub's processes, as the registry declares them, with their default ports.
HUB_SERVICES = {name: spec.port(HubSettings()) for name, spec in PROCESSES.items()}
SERVICES = {"postgres", "kafka", "db-setup", "prometheus", "grafana", *HUB_SERVICES}

# services/common/metrics.py: the names the dashboard and the alerts may use.
METRICS = frozenset(
    {
        "hub_commands_total",
        "hub_command_seconds",
        "hub_events_appended_total",
        "hub_relay_published_total",
        "hub_relay_position",
        "hub_relay_lag_events",
        "hub_relay_store_to_ack_seconds",
        "hub_relay_republish_total",
        "hub_relay_errors_total",
        "hub_relay_parked_total",
        "hub_chain_unsigned_records",
        "hub_chain_last_checkpoint_timestamp_seconds",
        "hub_chain_checkpoint_failures_total",
        "hub_consumer_gaps_healed_total",
        "hub_dead_letters_retried_total",
        "hub_consumer_applied_total",
        "hub_consumer_duplicates_total",
        "hub_consumer_gaps_total",
        "hub_consumer_errors_total",
        "hub_consumer_batch_seconds",
        "hub_consumer_lag_messages",
        "hub_projection_lag_seconds",
        "hub_dead_letters_parked",
        "hub_partner_messages_held",
        "hub_partner_messages_held_oldest_seconds",
    }
)
HISTOGRAMS = frozenset(
    {
        "hub_command_seconds",
        "hub_relay_store_to_ack_seconds",
        "hub_consumer_batch_seconds",
    }
)
# Series Prometheus itself writes for every target (is the process up at all?).
PROMETHEUS_SERIES = frozenset({"up"})
PROMQL_WORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "inf",
        "nan",
    }
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def compose_services() -> dict[str, str]:
    """The text of each service block under the top-level ``services:`` key."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    inside = False
    for line in read(COMPOSE).splitlines():
        if re.match(r"^\S", line):
            inside = line.startswith("services:")
            current = None
            continue
        header = re.match(r"^  ([a-z][a-z0-9-]*):\s*$", line)
        if inside and header:
            current = blocks.setdefault(header.group(1), [])
        elif inside and current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in blocks.items()}


def hub_service_anchor() -> str:
    match = re.search(
        r"^x-hub-service: &hub-service\n((?:  .*\n|\n)+)", read(COMPOSE), re.MULTILINE
    )
    assert match, "docker-compose.yml lost its x-hub-service anchor"
    return match.group(1)


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (functions and labels removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text
    )
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        if match.group(2) is None:
            names.add(match.group(1))
    return names - PROMQL_WORDS


def is_known_metric(name: str) -> bool:
    if name in METRICS or name in PROMETHEUS_SERIES or name.startswith("faststream_"):
        return True
    base, _, suffix = name.rpartition("_")
    return suffix in {"bucket", "sum", "count"} and base in HISTOGRAMS


def unknown_metrics(expr: str) -> set[str]:
    return {name for name in metric_names(expr) if not is_known_metric(name)}


def misnamed(exprs: list[str]) -> dict[str, set[str]]:
    return {expr: unknown_metrics(expr) for expr in exprs if unknown_metrics(expr)}


def alert_exprs(text: str) -> list[str]:
    """Every ``expr:`` of a rules file, inline or as a ``|`` block."""
    exprs: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2).strip()
        if rest not in {"|", "|-", ">", ">-"}:
            exprs.append(rest)
            continue
        body = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                break
            body.append(follow.strip())
        exprs.append(" ".join(body).strip())
    return exprs


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read(DASHBOARD))
    return data


def dashboard_panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def dashboard_exprs() -> list[str]:
    return [
        target["expr"]
        for panel in dashboard_panels()
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def test_the_metric_check_catches_a_misspelt_name() -> None:
    assert unknown_metrics("sum by (service) (rate(hub_relay_publishd_total[5m]))") == {
        "hub_relay_publishd_total"
    }
    assert not unknown_metrics(
        "histogram_quantile(0.99, sum by (le) "
        '(rate(hub_command_seconds_bucket{service="x"}[$__rate_interval]))) > 1e-3 '
        "and on (service) faststream_received_messages_total"
    )


def test_compose_declares_the_whole_stack() -> None:
    assert set(compose_services()) == SERVICES


def test_infrastructure_uses_the_official_images_with_healthchecks() -> None:
    services = compose_services()
    postgres, kafka = services["postgres"], services["kafka"]
    assert re.search(r"^\s+image: postgres:16\s*$", postgres, re.MULTILINE)
    assert "pg_isready" in postgres
    assert "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/" in postgres
    assert "- postgres-data:/var/lib/postgresql/data" in postgres
    assert re.search(r"^\s+image: apache/kafka:\d", kafka, re.MULTILINE)
    assert "KAFKA_PROCESS_ROLES: broker,controller" in kafka
    assert 'KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false"' in kafka
    for name in ("postgres", "kafka", "prometheus"):
        assert "healthcheck:" in services[name], name


@pytest.mark.parametrize("name", sorted(HUB_SERVICES))
def test_each_hub_service_runs_its_own_process(name: str) -> None:
    block = compose_services()[name]
    assert "<<: *hub-service" in block
    assert f'command: ["serve", "{name}"]' in block
    assert f"http://127.0.0.1:{HUB_SERVICES[name]}/ready" in block


def test_hub_services_share_image_settings_and_wait_for_healthy_servers() -> None:
    anchor = hub_service_anchor()
    assert "dockerfile: deploy/Dockerfile" in anchor
    assert "HUB_DATABASE_URL" not in anchor, "each service has its own role's URL"
    assert "HUB_KAFKA_BOOTSTRAP_SERVERS: kafka:9092" in anchor
    assert 'HUB_KAFKA_ENABLE_IDEMPOTENCE: "true"' in anchor
    assert "HUB_HOST: 0.0.0.0" in anchor
    for port in ("HUB_INTAKE_PORT", "HUB_CASE_STATE_PORT", "HUB_RELAY_METRICS_PORT"):
        assert f"{port}:" in anchor
    assert re.search(r"db-setup:\s+condition: service_completed_successfully", anchor)
    assert re.search(r"kafka:\s+condition: service_healthy", anchor)


def _resolved(value: str) -> int:
    """A compose value as the default of its variable would make it."""
    match = re.fullmatch(r"\$\{(\w+):-([^}]*)\}", value.strip().strip('"'))
    return int(match.group(2) if match else value.strip().strip('"'))


def _setting(block: str, name: str) -> tuple[str, int]:
    match = re.search(rf"^\s+{name}: (.+)$", block, re.MULTILINE)
    assert match, f"{name} is not set"
    return match.group(1).strip(), _resolved(match.group(1))


def test_the_broker_the_topics_and_the_producers_agree_on_the_largest_message() -> None:
    largest = HubSettings().kafka_max_message_bytes
    hub_text, hub = _setting(hub_service_anchor(), "HUB_KAFKA_MAX_MESSAGE_BYTES")
    kafka = compose_services()["kafka"]
    broker_text, broker = _setting(kafka, "KAFKA_MESSAGE_MAX_BYTES")
    _, replica_fetch = _setting(kafka, "KAFKA_REPLICA_FETCH_MAX_BYTES")
    assert hub == broker == largest
    assert broker_text == hub_text, "one variable sets both"
    assert replica_fetch >= broker, "replicas must fetch the largest message"


def test_every_compose_variable_has_a_default() -> None:
    text = read(COMPOSE).replace("$$", "")
    variables = re.findall(r"\$\{([^}]*)\}", text)
    assert variables
    with_default = re.compile(r"[A-Z][A-Z0-9_]*:-[^}]*")
    assert [v for v in variables if not with_default.fullmatch(v)] == []
    assert "$" not in re.sub(r"\$\{[^}]*\}", "", text)


def test_secrets_only_come_from_variables() -> None:
    for line in read(COMPOSE).splitlines():
        match = re.match(r"^\s*\w*(?:PASSWORD|SECRET)\w*:\s*(\S.*)$", line)
        if match:
            assert match.group(1).startswith("${"), line


def test_every_file_the_stack_mounts_exists() -> None:
    text = read(COMPOSE)
    mounted = re.findall(r"\./deploy/[^\s:\"']+", text)
    assert mounted
    assert [p for p in mounted if not (ROOT / p).exists()] == []
    assert DOCKERFILE.is_file()


def test_dockerfile_installs_the_lock_and_runs_hub_as_a_user() -> None:
    text = read(DOCKERFILE)
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert "pip install -r requirements.lock" in text
    assert "pip install --no-deps ." in text
    # The compiled chain step is built and imported in the image, not left out.
    assert "setup.py" in text
    assert 'python -c "import services.common._chainlink"' in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["hub"]' in text


def test_postgres_init_creates_the_schemas_idempotently() -> None:
    text = read(INIT_SQL)
    for schema in ("intake", "case_state"):
        assert f"CREATE SCHEMA IF NOT EXISTS {schema};" in text
    assert re.findall(r"CREATE SCHEMA (?!IF NOT EXISTS)", text) == []


def test_prometheus_scrapes_the_hub_and_loads_the_alerts() -> None:
    text = read(PROMETHEUS)
    for name, port in HUB_SERVICES.items():
        assert f'"{name}:{port}"' in text
    assert "- /etc/prometheus/alerts.yml" in text
    prometheus = compose_services()["prometheus"]
    for name in ("prometheus.yml", "alerts.yml"):
        assert f"./deploy/prometheus/{name}:/etc/prometheus/{name}:ro" in prometheus


def test_alerts_use_existing_metrics_and_cover_the_operator_cases() -> None:
    exprs = alert_exprs(read(ALERTS))
    assert exprs
    assert misnamed(exprs) == {}
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert {
        "hub_relay_lag_events",
        "hub_relay_errors_total",
        "hub_consumer_lag_messages",
        "hub_dead_letters_parked",
        "hub_projection_lag_seconds",
        "hub_partner_messages_held_oldest_seconds",
    } <= used
    assert re.search(r"hub_dead_letters_parked > 0\b", read(ALERTS))
    assert re.search(r"hub_projection_lag_seconds > 30\b", read(ALERTS))


def test_dashboard_is_grafana_json_on_the_provisioned_datasource() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 39
    assert board["uid"]
    assert board["title"]
    uid = re.search(r"^\s+uid:\s*(\S+)", read(DATASOURCE), re.MULTILINE)
    assert uid
    panels = dashboard_panels()
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == uid.group(1), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid.group(1), panel["title"]


def test_dashboard_queries_use_existing_metrics() -> None:
    exprs = dashboard_exprs()
    assert misnamed(exprs) == {}
    used = set().union(*(metric_names(expr) for expr in exprs))
    shown = {name.removesuffix("_bucket") for name in used}
    assert METRICS - {"hub_relay_position"} <= shown


def test_grafana_loads_the_dashboard_from_where_compose_mounts_it() -> None:
    path = re.search(r"^\s+path:\s*(\S+)", read(DASHBOARD_PROVIDER), re.MULTILINE)
    assert path
    grafana = compose_services()["grafana"]
    assert f"./deploy/grafana/dashboards:{path.group(1)}" in grafana
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning" in grafana


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    assert isinstance(yaml.safe_load(read(path)), dict)


def test_alert_rules_are_complete() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    groups = yaml.safe_load(read(ALERTS))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(alert_exprs(read(ALERTS)))
    for rule in rules:
        assert rule["alert"]
        assert not unknown_metrics(rule["expr"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker CLI is not installed")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False, timeout=30
    )
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_compose_broker_compacts_the_case_state_topic() -> None:
    """Apache Kafka cleans the compacted topic the case-state process creates."""
    assert TOPIC_CONFIGS == {"cleanup.policy": "compact"}
    assert 'KAFKA_LOG_CLEANER_ENABLE: "true"' in compose_services()["kafka"]


def test_every_hub_process_signs_checkpoints_with_one_key_in_a_shared_volume() -> None:
    # The development signing key lives in HUB_DATA_DIR (the image's
    # /var/lib/hub): one named volume there for every hub process, so the
    # relays sign with the key the first one made and a restart keeps it.
    anchor = hub_service_anchor()
    assert re.search(r"^\s+- hub-data:/var/lib/hub\s*$", anchor, re.MULTILINE)
    assert "ENV HUB_DATA_DIR=/var/lib/hub" in read(ROOT / "deploy" / "Dockerfile")
    assert re.search(r"^  hub-data:\s*$", read(COMPOSE), re.MULTILINE)
    services = compose_services()
    for name, block in services.items():
        if "<<: *hub-service" in block:
            assert "volumes:" not in block, f"{name} replaces the shared volume"
