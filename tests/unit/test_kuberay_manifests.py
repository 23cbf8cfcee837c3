"""deploy/kuberay/: the manifests validated on paper (no kube-apiserver runs here).

The RayCluster is validated with jsonschema against KubeRay's CRD openAPIV3Schema, vendored
(as a verbatim excerpt: see its header) in tests/data/kuberay/ray.io_rayclusters.yaml. No
package with Kubernetes' own OpenAPI schemas is installed, so the built-in kinds (Secret,
Deployment, Service, StatefulSet, PersistentVolumeClaim) and the pod templates are checked
with explicit assertions on the fields the API server requires. The server's command line is
parsed by our own click CLI, so a renamed or removed flag fails here.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml

from customjobs.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kuberay"
CRD = ROOT / "tests" / "data" / "kuberay" / "ray.io_rayclusters.yaml"
RAY_PIN = re.compile(r'"ray==([0-9.]+)"')


def _docs(name: str) -> list[dict[str, Any]]:
    with (DEPLOY / name).open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def _one(name: str, kind: str) -> dict[str, Any]:
    found = [d for d in _docs(name) if d["kind"] == kind]
    assert len(found) == 1, f"{name}: expected one {kind}, found {len(found)}"
    return found[0]


def _raycluster_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    assert crd["kind"] == "CustomResourceDefinition" and crd["metadata"]["name"] == "rayclusters.ray.io"
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return v1["schema"]["openAPIV3Schema"]


def _validate_raycluster(doc: dict[str, Any]) -> None:
    jsonschema.validate(doc, _raycluster_schema(), cls=jsonschema.Draft4Validator)
    _no_pruned_fields(doc, _raycluster_schema(), "RayCluster")


def _no_pruned_fields(value: Any, schema: dict[str, Any], where: str) -> None:
    """The API server silently drops fields a structural schema does not name: refuse them."""
    if isinstance(value, dict) and "properties" in schema and "additionalProperties" not in schema:
        unknown = set(value) - set(schema["properties"])
        assert not unknown, f"{where}: fields the CRD does not know (would be pruned): {sorted(unknown)}"
        for key, sub in value.items():
            _no_pruned_fields(sub, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _no_pruned_fields(item, schema["items"], f"{where}[{i}]")


# -- RayCluster against the KubeRay CRD ------------------------------------------------------


def test_raycluster_validates_against_the_kuberay_crd() -> None:
    cluster = _one("raycluster.yaml", "RayCluster")
    assert cluster["apiVersion"] == "ray.io/v1"
    _validate_raycluster(cluster)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("spec", "workerGroupSpecs", 0, "replicas"), "two"),
        (("spec", "headGroupSpec", "rayStartParams", "port"), 6380),
        (("spec", "workerGroupSpecs"), {"groupName": "workers"}),
        (("spec", "headGroupSpec", "template", "metadata", "labels"), ["not", "a", "map"]),
    ],
)
def test_a_broken_raycluster_is_rejected(path: tuple[Any, ...], bad: Any) -> None:
    broken = copy.deepcopy(_one("raycluster.yaml", "RayCluster"))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        _validate_raycluster(broken)


def test_a_raycluster_missing_a_required_field_is_rejected() -> None:
    broken = copy.deepcopy(_one("raycluster.yaml", "RayCluster"))
    del broken["spec"]["headGroupSpec"]["rayStartParams"]
    with pytest.raises(jsonschema.ValidationError):
        _validate_raycluster(broken)


def test_a_misspelt_raycluster_field_is_refused() -> None:
    broken = copy.deepcopy(_one("raycluster.yaml", "RayCluster"))
    broken["spec"]["workerGroupSpecs"][0]["replica"] = broken["spec"]["workerGroupSpecs"][0].pop("replicas")
    with pytest.raises(AssertionError, match="pruned"):
        _validate_raycluster(broken)


def test_raycluster_pod_templates_and_what_our_ray_backend_needs() -> None:
    cluster = _one("raycluster.yaml", "RayCluster")
    spec = cluster["spec"]
    ray_version = RAY_PIN.search((ROOT / "pyproject.toml").read_text()).group(1)
    assert spec["rayVersion"] == ray_version
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    for worker in spec["workerGroupSpecs"]:
        # The worker group's `required` was not in the vendored excerpt: KubeRay v1 requires these.
        for field in ("groupName", "minReplicas", "maxReplicas", "rayStartParams", "template"):
            assert field in worker, field
        assert worker["minReplicas"] <= worker["replicas"] <= worker["maxReplicas"]
    for group in groups:
        pod = group["template"]["spec"]
        _check_pod_spec(pod, "RayCluster")
        (container,) = pod["containers"]
        assert container["image"] == groups[0]["template"]["spec"]["containers"][0]["image"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), kind
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        # --ray-node-dir, per node; the buckets at the server's path, shared.
        assert "emptyDir" in volumes[mounts["/var/lib/customjobs-ray"]]
        shared = volumes[mounts["/shared/customjobs"]]
        assert shared["persistentVolumeClaim"]["claimName"] == "customjobs-shared"


def test_containerfile_builds_on_the_pinned_ray() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    ray_version = RAY_PIN.search((ROOT / "pyproject.toml").read_text()).group(1)
    (base,) = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert re.fullmatch(rf"(docker\.io/)?rayproject/ray:{re.escape(ray_version)}(-py3\d+)?", base), base
    assert re.search(r"pip install .*customjobs-src\[ray", text)


# -- built-in kinds, by explicit assertions (no Kubernetes OpenAPI package is installed) -----


def _check_meta(doc: dict[str, Any], api_version: str) -> None:
    assert doc["apiVersion"] == api_version, doc["kind"]
    name = doc["metadata"]["name"]
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63, name


def _check_pod_spec(pod: dict[str, Any], where: str, claims: frozenset[str] = frozenset()) -> None:
    assert isinstance(pod["containers"], list) and pod["containers"], where
    volumes = {v["name"] for v in pod.get("volumes", [])} | claims
    for c in pod["containers"]:
        assert isinstance(c["name"], str) and isinstance(c["image"], str), where
        for key in ("command", "args"):
            assert all(isinstance(a, str) for a in c.get(key, [])), (where, key)
        for port in c.get("ports", []):
            assert isinstance(port["containerPort"], int), where
        for env in c.get("env", []):
            assert isinstance(env["name"], str) and ("value" in env) != ("valueFrom" in env), env
            if "value" in env:
                assert isinstance(env["value"], str), env
        for mount in c.get("volumeMounts", []):
            assert mount["name"] in volumes, (where, mount)
        for kind in ("requests", "limits"):
            for quantity in c.get("resources", {}).get(kind, {}).values():
                assert isinstance(quantity, str) and re.fullmatch(r"[0-9.]+(m|[KMGT]i)?", quantity), quantity


def _check_workload(doc: dict[str, Any]) -> dict[str, Any]:
    _check_meta(doc, "apps/v1")
    spec = doc["spec"]
    assert isinstance(spec["replicas"], int)
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items(), "selector must match the template"
    claims = frozenset(c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", []))
    _check_pod_spec(spec["template"]["spec"], doc["kind"], claims)
    return spec["template"]["spec"]


def _check_service(svc: dict[str, Any], pods: dict[str, Any]) -> None:
    _check_meta(svc, "v1")
    assert svc["spec"]["selector"].items() <= pods["metadata"]["labels"].items()
    port_names = {p["name"] for c in pods["spec"]["containers"] for p in c.get("ports", [])}
    for port in svc["spec"]["ports"]:
        assert isinstance(port["port"], int)
        assert port["targetPort"] in port_names or isinstance(port["targetPort"], int), port


def _check_secret(secret: dict[str, Any]) -> None:
    _check_meta(secret, "v1")
    assert all(isinstance(v, str) for v in secret["stringData"].values())


def test_builtin_kinds_have_the_required_fields() -> None:
    pvc = _one("raycluster.yaml", "PersistentVolumeClaim")
    _check_meta(pvc, "v1")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"] and pvc["spec"]["resources"]["requests"]["storage"]

    deployment = _one("server.yaml", "Deployment")
    _check_workload(deployment)
    _check_service(_one("server.yaml", "Service"), deployment["spec"]["template"])
    _check_secret(_one("server.yaml", "Secret"))

    postgres = _one("postgres.yaml", "StatefulSet")
    _check_workload(postgres)
    assert postgres["spec"]["serviceName"] == _one("postgres.yaml", "Service")["metadata"]["name"]
    (claim,) = postgres["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    (container,) = postgres["spec"]["template"]["spec"]["containers"]
    assert container["image"].endswith("postgres:15")
    assert claim["metadata"]["name"] in {m["name"] for m in container["volumeMounts"]}
    _check_service(_one("postgres.yaml", "Service"), postgres["spec"]["template"])
    _check_secret(_one("postgres.yaml", "Secret"))


def test_secret_references_resolve() -> None:
    secrets = {
        d["metadata"]["name"]: d
        for n in ("server.yaml", "postgres.yaml")
        for d in _docs(n)
        if d["kind"] == "Secret"
    }
    for name in ("server.yaml", "postgres.yaml"):
        for workload in (d for d in _docs(name) if d["kind"] in ("Deployment", "StatefulSet")):
            for c in workload["spec"]["template"]["spec"]["containers"]:
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in secrets[ref["name"]]["stringData"], ref


# -- the server's command, parsed by our CLI --------------------------------------------------


def _server_container() -> dict[str, Any]:
    (container,) = _one("server.yaml", "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _expanded_args(container: dict[str, Any]) -> list[str]:
    """The args as the kubelet passes them: $(VAR) expanded from the container's env."""
    secrets = {d["metadata"]["name"]: d["stringData"] for d in _docs("server.yaml") if d["kind"] == "Secret"}
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container["args"]]


def _parse_serve(args: list[str]) -> dict[str, Any]:
    assert args[0] == "serve"
    with main.make_context("customjobs", list(args), resilient_parsing=False) as ctx:
        serve = main.get_command(ctx, args[0])
        assert serve is not None
        with serve.make_context(args[0], list(args[1:]), parent=ctx) as sub:
            return sub.params


def test_server_command_parses_with_our_cli() -> None:
    container = _server_container()
    assert container["command"] == ["customjobs"]
    params = _parse_serve(_expanded_args(container))
    assert params["backend"] == "ray"
    assert params["database"].startswith("postgresql+psycopg://")
    assert params["host"] == "0.0.0.0"

    # The REST port is the one the probes, the container port and the Service use.
    rest = {p["name"]: p["containerPort"] for p in container["ports"]}["rest"]
    assert params["port"] == rest
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in ("rest", rest)

    # --ray-address names KubeRay's head Service and the GCS port the head really starts on.
    cluster = _one("raycluster.yaml", "RayCluster")
    head = cluster["spec"]["headGroupSpec"]
    host, _, port = params["ray_address"].rpartition(":")
    assert host == f"{cluster['metadata']['name']}-head-svc"
    assert port == head["rayStartParams"]["port"]
    head_ports = {p["name"]: p["containerPort"] for p in head["template"]["spec"]["containers"][0]["ports"]}
    assert head_ports["gcs-server"] == int(port)

    # The nodes see --ray-node-dir and the buckets at the paths the server names.
    for group in [head, *cluster["spec"]["workerGroupSpecs"]]:
        mounts = {m["mountPath"] for m in group["template"]["spec"]["containers"][0]["volumeMounts"]}
        assert str(params["ray_node_dir"]) in mounts
        assert any(str(params["buckets_dir"]).startswith(m + "/") for m in mounts)
    server_mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert any(str(params["buckets_dir"]).startswith(m + "/") for m in server_mounts)
    assert any(str(params["jobs_dir"]).startswith(m + "/") for m in server_mounts)

    # --base-url: the server's Service, on its port.
    svc = _one("server.yaml", "Service")
    assert params["base_url"] == f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"

    # The URL's host and port are postgres.yaml's Service.
    pg = _one("postgres.yaml", "Service")
    assert f"@{pg['metadata']['name']}:{pg['spec']['ports'][0]['port']}/" in params["database"]


def test_a_renamed_flag_breaks_the_parse() -> None:
    args = _expanded_args(_server_container())
    renamed = [a.replace("--ray-address=", "--ray-head=") for a in args]
    with pytest.raises(click.NoSuchOption):
        _parse_serve(renamed)
