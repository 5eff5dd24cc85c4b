"""deploy/k8s: valid YAML, every file in its kustomization, and manifests that agree with the
code — commands, environment variable names, ports, probes, topics, databases — and with the
Secrets that make-secrets.sh prints."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.compose_file import ROOT, all_settings_from, platform_from, process_from
from zhichan.events.broker import ALL_TOPICS
from zhichan.settings_doc import (
    migrate_variables,
    platform_variables,
    process_prefix,
    process_variables,
    rule_classes,
)
from zhichan.stack import PROCESSES

K8S = ROOT / "deploy" / "k8s"


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


@functools.cache
def manifests() -> tuple[dict, ...]:
    return tuple(
        doc for path in sorted(K8S.rglob("*.yaml")) if path.name != "kustomization.yaml" for doc in documents(path)
    )


def of_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


@pytest.fixture(scope="module")
def generated_secrets() -> dict[str, dict]:
    """What make-secrets.sh prints, by Secret name."""
    out = subprocess.run(["sh", str(K8S / "make-secrets.sh")], check=True, capture_output=True, text=True).stdout
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(out) if doc}


def pod_environment(container: dict, secrets: dict[str, dict]) -> dict[str, str]:
    """The container's environment as Kubernetes would give it."""
    configmaps = of_kind("ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= configmaps[source["configMapRef"]["name"]]["data"]
        else:
            env |= secrets[source["secretRef"]["name"]]["stringData"]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]]["stringData"][ref["key"]]
    return env


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def served(deployment: dict) -> str:
    command = pod_spec(deployment)["containers"][0]["command"]
    assert command[:2] == ["zhichan", "serve"], command
    return command[2]


def test_every_file_is_yaml_with_a_kind_and_a_name():
    for path in K8S.rglob("*.yaml"):
        for doc in documents(path):
            assert doc["apiVersion"] and doc["kind"], path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_every_kustomization_lists_every_file_and_folder_beside_it():
    kustomizations = sorted(K8S.rglob("kustomization.yaml"))
    listed_dirs = set()
    for path in kustomizations:
        resources = documents(path)[0]["resources"]
        for entry in resources:
            target = (path.parent / entry).resolve()
            assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{path}: {entry} is missing"
            if target.is_dir():
                listed_dirs.add(target)
        beside = {p.name for p in path.parent.glob("*.yaml")} - {"kustomization.yaml"}
        assert beside <= set(resources), f"{path} does not list {sorted(beside - set(resources))}"
    # every folder of manifests is used by the top-level kustomization or the external-postgres one
    assert {p.parent.resolve() for p in kustomizations} - listed_dirs == {
        K8S.resolve(),
        (K8S / "external-postgres").resolve(),
    }


def test_the_platform_has_every_kind_it_needs():
    count = defaultdict(int)
    for doc in manifests():
        count[doc["kind"]] += 1
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert count[kind] == len(PROCESSES), kind
    for kind in ("Job", "ConfigMap", "Namespace", "Kafka", "KafkaNodePool", "Cluster"):
        assert count[kind] == 1, kind
    assert count["KafkaTopic"] == 2 * len(ALL_TOPICS)
    assert count["Database"] == len(PROCESSES)


def test_each_process_has_one_deployment_running_it():
    deployments = of_kind("Deployment")
    assert sorted(deployments) == sorted(PROCESSES)
    for name, deployment in deployments.items():
        assert served(deployment) == name


def test_every_container_has_resources_and_every_process_its_probes():
    workloads = of_kind("Deployment") | of_kind("Job")
    for name, workload in workloads.items():
        spec = pod_spec(workload)
        for container in spec["containers"] + spec.get("initContainers", []):
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), (name, container["name"])
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), (name, container["name"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
    for deployment in of_kind("Deployment").values():
        main = pod_spec(deployment)["containers"][0]
        assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_environment_names_are_settings_the_code_reads(generated_secrets):
    for name, deployment in of_kind("Deployment").items():
        spec = pod_spec(deployment)
        for container in spec["containers"] + spec["initContainers"]:
            unknown = set(pod_environment(container, generated_secrets)) - process_variables(name)
            assert not unknown, f"{name}/{container['name']} sets variables no settings class reads: {unknown}"
    job = pod_spec(of_kind("Job")["zhichan-migrate"])["containers"][0]
    assert job["command"] == ["zhichan", "migrate"]
    assert set(pod_environment(job, generated_secrets)) <= migrate_variables()
    assert set(generated_secrets["zhichan-jwt"]["stringData"]) <= platform_variables()


def test_every_settings_class_of_a_process_accepts_the_environment_its_pods_get(generated_secrets):
    for name, deployment in of_kind("Deployment").items():
        env = pod_environment(pod_spec(deployment)["containers"][0], generated_secrets)
        built = all_settings_from(name, env)
        assert [type(settings) for settings in built[2:]] == rule_classes(name)


def test_replicas_wait_for_the_schema_the_migrate_job_writes(generated_secrets):
    job = pod_environment(pod_spec(of_kind("Job")["zhichan-migrate"])["containers"][0], generated_secrets)
    for name, deployment in of_kind("Deployment").items():
        spec = pod_spec(deployment)
        (init,) = spec["initContainers"]
        assert init["command"] == ["zhichan-wait-for-schema", name]
        for container in (init, spec["containers"][0]):
            url = process_from(name, pod_environment(container, generated_secrets)).database_url
            assert url == process_from(name, job).database_url
        assert process_from(name, pod_environment(spec["containers"][0], generated_secrets)).migrate_on_start is False


def test_ports_and_service_urls_agree_with_the_settings(generated_secrets):
    services = of_kind("Service")
    ports = {}
    for name, deployment in of_kind("Deployment").items():
        main = pod_spec(deployment)["containers"][0]
        settings = process_from(name, pod_environment(main, generated_secrets))
        assert settings.host == "0.0.0.0"
        assert main["ports"] == [{"name": "http", "containerPort": settings.http_port}]
        assert services[name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert services[name]["spec"]["ports"] == [{"name": "http", "port": settings.http_port, "targetPort": "http"}]
        ports[name] = settings.http_port
    gateway_container = pod_spec(of_kind("Deployment")["gateway"])["containers"][0]
    gateway = process_from("gateway", pod_environment(gateway_container, generated_secrets))
    for process in PROCESSES:
        if process != "gateway":
            url = urlsplit(gateway.service_url(process))
            assert (url.hostname, url.port) == (process, ports[process])


def test_every_process_scales_and_the_gateway_no_further_than_its_partitions(generated_secrets):
    hpas = {hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"] for hpa in of_kind("HorizontalPodAutoscaler").values()}
    assert set(hpas) == set(of_kind("Deployment"))
    platform = platform_from(of_kind("ConfigMap")["zhichan-platform"]["data"])
    for name, spec in hpas.items():
        assert 2 <= spec["minReplicas"] <= spec["maxReplicas"]
        # a replica count in the Deployment would undo the autoscaler's at every apply
        assert "replicas" not in of_kind("Deployment")[name]["spec"]
    # a gateway replica that gets no partition is never ready
    assert hpas["gateway"]["maxReplicas"] <= len(ALL_TOPICS) * platform.topic_partitions


def test_kafka_is_strimzi_in_kraft_mode_with_the_platforms_topics():
    (kafka_name, kafka), (pool,) = next(iter(of_kind("Kafka").items())), of_kind("KafkaNodePool").values()
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka_name
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    plain = [lst for lst in kafka["spec"]["kafka"]["listeners"] if not lst["tls"]]
    platform = platform_from(of_kind("ConfigMap")["zhichan-platform"]["data"])
    assert platform.kafka_bootstrap == f"{kafka_name}-kafka-bootstrap:{plain[0]['port']}"
    assert platform.kafka_idempotent_producer is True
    topics = of_kind("KafkaTopic")
    assert set(topics) == {*ALL_TOPICS, *(f"{t}.dlq" for t in ALL_TOPICS)}
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka_name
        assert topic["spec"]["partitions"] == platform.topic_partitions


def test_postgres_has_one_role_and_database_per_process_matching_the_urls(generated_secrets):
    (cluster_name, cluster), databases = next(iter(of_kind("Cluster").items())), of_kind("Database").values()
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert sorted(roles) == sorted(PROCESSES)
    assert sorted(db["spec"]["name"] for db in databases) == sorted(PROCESSES)
    urls = generated_secrets["zhichan-database"]["stringData"]
    for db in databases:
        process = db["spec"]["name"]
        assert db["spec"]["owner"] == process and db["spec"]["cluster"]["name"] == cluster_name
        credentials = generated_secrets[roles[process]["passwordSecret"]["name"]]
        assert credentials["type"] == "kubernetes.io/basic-auth"
        url = urlsplit(urls[f"{process_prefix(process)}DATABASE_URL"])
        assert (url.username, url.password) == (process, credentials["stringData"]["password"])
        assert credentials["stringData"]["username"] == process
        assert (url.hostname, url.port, url.path) == (f"{cluster_name}-rw", 5432, f"/{process}")


def test_make_secrets_takes_a_public_key_instead_of_a_secret(tmp_path):
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    (tmp_path / "idp.pem").write_text(pem)
    out = subprocess.run(
        ["sh", str(K8S / "make-secrets.sh")],
        env={"PATH": "/usr/bin:/bin", "ZHICHAN_JWT_PUBLIC_KEY_FILE": str(tmp_path / "idp.pem")},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    jwt = next(doc for doc in yaml.safe_load_all(out) if doc and doc["metadata"]["name"] == "zhichan-jwt")
    assert jwt["stringData"] == {"ZHICHAN_JWT_PUBLIC_KEY": pem}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("folder, with_cnpg", [(".", True), ("external-postgres", False)])
def test_kustomize_builds_with_the_image_set_everywhere(folder, with_cnpg):
    out = subprocess.run(["kubectl", "kustomize", str(K8S / folder)], check=True, capture_output=True, text=True)
    built = [doc for doc in yaml.safe_load_all(out.stdout) if doc]
    kinds = {doc["kind"] for doc in built}
    assert ("Cluster" in kinds) is with_cnpg and ("Database" in kinds) is with_cnpg
    assert {"Kafka", "KafkaTopic", "Deployment", "Job", "HorizontalPodAutoscaler"} <= kinds
    images = set()
    for doc in built:
        if doc["kind"] in ("Deployment", "Job"):
            assert doc["metadata"]["namespace"] == "zhichan"
            spec = pod_spec(doc)
            images |= {c["image"] for c in spec["containers"] + spec.get("initContainers", [])}
    assert len(images) == 1 and images != {"zhichan"}, images
