"""The container CLI's argument vectors: Kubernetes command/args semantics on podman and docker."""

from __future__ import annotations

import itertools
import json

import pytest

from customjobs.config import split_flags
from customjobs.execution.backends.containers.cli import ContainerCli, ContainerState, RunSpec, container_name


def spec(command: tuple[str, ...] = (), args: tuple[str, ...] = ()) -> RunSpec:
    return RunSpec(
        name="customjobs-7-1-workerpool0-0",
        image="localhost/img:1",
        command=command,
        args=args,
        env={"A": "1", "CLUSTER_SPEC": '{"cluster": {}}'},
        labels={"customjobs.job": "7"},
        mounts=(("/out", "/out"),),
    )


def test_podman_command_replaces_the_entrypoint_as_a_json_array() -> None:
    flags = split_flags("--runtime runc --cgroup-manager=cgroupfs")
    cli = ContainerCli("podman", "podman", flags)
    argv = cli.run_argv(spec(("python", "-m", "trainer"), ("--epochs", "3")), ["--shm-size=1g"])
    assert argv[:6] == ["podman", "--log-level=error", *flags, "run"]
    entrypoint = next(a for a in argv if a.startswith("--entrypoint="))
    assert json.loads(entrypoint.split("=", 1)[1]) == ["python", "-m", "trainer"]
    assert argv[-3:] == ["localhost/img:1", "--epochs", "3"]
    assert argv.index("--shm-size=1g") < argv.index("localhost/img:1")
    assert "--pull=never" in argv and "--network=host" in argv
    pairs = list(itertools.pairwise(argv))
    assert ("--env", 'CLUSTER_SPEC={"cluster": {}}') in pairs
    assert ("--volume", "/out:/out") in pairs
    assert ("--label", "customjobs.job=7") in pairs


def test_docker_entrypoint_is_one_word_and_the_rest_lead_the_args() -> None:
    argv = ContainerCli("docker", "/usr/bin/docker").run_argv(spec(("python", "-m", "t"), ("x",)), pull=True)
    assert argv[:3] == ["/usr/bin/docker", "--log-level=error", "run"]
    assert "--entrypoint=python" in argv and "--pull=missing" in argv
    assert argv[-4:] == ["localhost/img:1", "-m", "t", "x"]


def test_args_alone_replace_cmd_and_nothing_keeps_the_image_defaults() -> None:
    cli = ContainerCli("podman", "podman")
    only_args = cli.run_argv(spec(args=("a", "b")))
    assert not any(a.startswith("--entrypoint") for a in only_args)
    assert only_args[-3:] == ["localhost/img:1", "a", "b"]
    assert cli.run_argv(spec())[-1] == "localhost/img:1"


def test_names_states_and_unknown_flavours() -> None:
    assert container_name(12, 2, "workerpool1-0") == "customjobs-12-2-workerpool1-0"
    assert ContainerState("created", 0).running and not ContainerState("created", 0).started
    assert not ContainerState("exited", 3).running and ContainerState("exited", 3).started
    with pytest.raises(ValueError, match="flavour"):
        ContainerCli("lxc", "lxc")
