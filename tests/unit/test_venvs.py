"""Job environments: copies of one template environment, each its own, each working."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from customjobs.execution.backends.packages import venvs


def _python(env: Path, code: str) -> str:
    done = subprocess.run([str(venvs.python_of(env)), "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_copy_is_an_environment_of_its_own_that_sees_the_host_packages(tmp_path: Path) -> None:
    env = tmp_path / "job" / "venv"
    venvs.create(env)
    assert _python(env, "import sys, customjobs; print(sys.prefix)") == str(env)
    assert "command = " in (env / "pyvenv.cfg").read_text()
    assert str(env) in (env / "pyvenv.cfg").read_text()  # its own path, not the template's
    pip = subprocess.run([str(venvs.bin_dir(env) / "pip"), "--version"], capture_output=True, text=True)
    assert pip.returncode == 0 and pip.stdout.startswith("pip ")
    assert [p.name for p in env.parent.iterdir()] == ["venv"]  # nothing left beside it


def test_copies_share_nothing(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    venvs.create(one)
    venvs.create(two)
    (venvs.site_packages(one) / "only_in_one.py").write_text("VALUE = 1\n")
    assert _python(one, "import only_in_one; print(only_in_one.VALUE)") == "1"
    missing = subprocess.run([str(venvs.python_of(two)), "-c", "import only_in_one"], capture_output=True)
    assert missing.returncode == 1
    assert not (venvs.site_packages(two) / "only_in_one.py").exists()


def test_what_a_killed_build_left_is_replaced(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "half-written").write_text("")
    venvs.create(env)
    assert _python(env, "import sys; print(sys.prefix)") == str(env)
    assert not (env / "bin" / "half-written").exists()


def test_copies_made_side_by_side_all_work(tmp_path: Path) -> None:
    envs = [tmp_path / str(i) / "venv" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(venvs.create, envs))
    for env in envs:
        assert venvs.python_of(env).resolve() == venvs.python_of(envs[0]).resolve()
        assert (venvs.site_packages(env) / venvs.HOST_PTH).read_text() == (
            venvs.site_packages(envs[0]) / venvs.HOST_PTH
        ).read_text()
    assert _python(envs[-1], "import sys; print(sys.prefix)") == str(envs[-1])
