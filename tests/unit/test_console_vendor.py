"""The console's committed static files: vendored packages match the lock, and nothing is remote."""

from __future__ import annotations

import json
import re
from pathlib import Path

from customjobs.console import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]
_IMPORT = re.compile(r"""^import\s.*?from\s+["'](\.{1,2}/[^"']+)["'];""", re.MULTILINE | re.DOTALL)


def test_vendored_packages_are_the_locked_versions() -> None:
    manifest = json.loads((STATIC_DIR / "vendor" / "manifest.json").read_text())
    lock = json.loads((REPO / "console" / "package-lock.json").read_text())["packages"]
    wanted = json.loads((REPO / "console" / "package.json").read_text())["dependencies"]
    assert set(manifest) == set(wanted)
    for package, meta in manifest.items():
        assert meta["version"] == lock[f"node_modules/{package}"]["version"] == wanted[package]
        for name in meta["files"]:
            assert (STATIC_DIR / "vendor" / name).is_file(), name


def test_pages_load_nothing_from_another_host() -> None:
    for page in ("index.html", "terminal.html"):
        text = (STATIC_DIR / page).read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), page


def test_every_module_import_resolves_to_a_committed_file() -> None:
    modules = sorted((STATIC_DIR / "js").glob("*.js"))
    assert modules
    for module in modules:
        for target in _IMPORT.findall(module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"
