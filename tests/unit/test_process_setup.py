"""How a process replica is set up: its argv (/gcs rewrite, the pythonPackageSpec bootstrap),
its per-job Python environment, and the bootstrap's own command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from customjobs.domain.spec import PoolSpec, PythonPackage
from customjobs.execution.backends.local.process_setup import ProcessOptions, job_environment, replica_argv
from customjobs.execution.backends.packages import envcache
from customjobs.execution.backends.packages.pyrunner import parse
from customjobs.execution.environment import ReplicaPlan


def _options(tmp_path: Path) -> ProcessOptions:
    return ProcessOptions(tmp_path / "buckets", tmp_path / "envs", "http://127.0.0.1:9")


def _pool(package: PythonPackage | None = None) -> PoolSpec:
    return PoolSpec(0, 1, "n1-standard-4", "img", (), (), (), python_package=package)


def _plan(*argv: str) -> ReplicaPlan:
    return ReplicaPlan("workerpool0-0", 0, 0, argv, {})


def test_gcs_paths_in_a_container_command_point_at_the_bucket_folder(tmp_path: Path) -> None:
    argv = replica_argv(
        _plan("sh", "-c", "pip3 install --user /gcs/stage/p.tar.gz"), _pool(), _options(tmp_path)
    )
    assert argv == ("sh", "-c", f"pip3 install --user {tmp_path}/buckets/stage/p.tar.gz")


def test_a_python_package_replica_runs_the_bootstrap(tmp_path: Path) -> None:
    uris = ("gs://b/p.tar.gz", "rel.whl", "/gcs/b/q.whl")
    package = PythonPackage("us-docker.pkg.dev/vertex-ai/training/x:latest", uris, "m.task")
    argv = replica_argv(_plan("--data", "/gcs/b/data", "--", "x"), _pool(package), _options(tmp_path))
    assert argv[:3] == (sys.executable, "-m", "customjobs.execution.backends.packages.pyrunner")
    ns = parse(argv[3:])
    assert ns.package == ["gs://b/p.tar.gz", str(Path("rel.whl").resolve()), f"{tmp_path}/buckets/b/q.whl"]
    assert (ns.module, ns.envs_dir, ns.buckets_dir) == ("m.task", tmp_path / "envs", tmp_path / "buckets")
    assert ns.args == ["--data", f"{tmp_path}/buckets/b/data", "--", "x"]


def test_the_job_environment_keeps_pip_away_from_the_host(tmp_path: Path) -> None:
    env = job_environment(tmp_path / "job", _options(tmp_path), "/usr/bin")
    venv_bin = tmp_path / "job" / "venv" / "bin"
    assert env["PATH"] == f"{venv_bin}:/usr/bin"
    assert env["PYTHONUSERBASE"] == str(tmp_path / "job" / "pyuser")
    assert env["STORAGE_EMULATOR_HOST"] == "http://127.0.0.1:9"
    where = subprocess.run(
        [str(venv_bin / "pip"), "--version"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert "pip" in where
    # The host's packages stay importable from the job's Python (this runs under the project's venv).
    probe = "import google.cloud.storage, sys; print(sys.prefix)"
    prefix = subprocess.run(
        [str(venv_bin / "python"), "-c", probe], capture_output=True, text=True, check=True
    )
    assert prefix.stdout.strip() == str(tmp_path / "job" / "venv")


def test_the_cache_key_follows_contents_and_names(tmp_path: Path) -> None:
    a, b = tmp_path / "a-0.1.tar.gz", tmp_path / "b" / "a-0.1.tar.gz"
    b.parent.mkdir()
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert envcache.env_key([a]) == envcache.env_key([b])
    b.write_bytes(b"changed")
    assert envcache.env_key([a]) != envcache.env_key([b])
    renamed = tmp_path / "a-0.2.tar.gz"
    renamed.write_bytes(b"same")
    assert envcache.env_key([a]) != envcache.env_key([renamed])


def test_a_failed_build_leaves_nothing_that_counts_as_cached(tmp_path: Path) -> None:
    bogus = tmp_path / "not_a_package-0.1.tar.gz"
    bogus.write_bytes(b"not a tarball")
    lines: list[str] = []
    try:
        envcache.ensure_env(tmp_path / "envs", [bogus], lines.append)
    except envcache.InstallFailed as exc:
        assert exc.returncode != 0
    else:
        raise AssertionError("a broken package installed")
    key = envcache.env_key([bogus])
    assert not (tmp_path / "envs" / key).exists()
    assert lines[0].startswith(f"customjobs: creating environment {key}")
