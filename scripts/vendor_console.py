"""Refresh the web console's vendored npm packages: `npm ci` in console/, then copy.

The console is served as committed static files, so `customjobs serve` needs neither
Node.js nor the network. This script is the one way those files change: it installs
exactly what console/package-lock.json pins, copies the few files the browser loads
(plus each package's licence) into src/customjobs/console/static/vendor/, and writes
manifest.json there, which tests/unit/test_console_vendor.py checks against the lock.

Usage: python scripts/vendor_console.py     (after editing console/package.json: npm install first)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "console"
VENDOR = REPO / "src" / "customjobs" / "console" / "static" / "vendor"

# package -> (file in the package, where it goes under vendor/)
FILES: dict[str, list[tuple[str, str]]] = {
    "@xterm/xterm": [
        ("lib/xterm.mjs", "xterm/xterm.mjs"),
        ("css/xterm.css", "xterm/xterm.css"),
        ("LICENSE", "xterm/LICENSE"),
    ],
    "@xterm/addon-fit": [
        ("lib/addon-fit.mjs", "xterm/addon-fit.mjs"),
        ("LICENSE", "xterm/LICENSE.addon-fit"),
    ],
    "js-yaml": [
        ("dist/browser/js-yaml.esm.min.mjs", "js-yaml/js-yaml.mjs"),
        ("LICENSE", "js-yaml/LICENSE"),
    ],
}
# The source maps are not vendored: drop the comments that would make browsers ask for them.
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


def main() -> int:
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=SOURCE, check=True)
    lock = json.loads((SOURCE / "package-lock.json").read_text())
    shutil.rmtree(VENDOR, ignore_errors=True)
    manifest = {}
    for package, files in FILES.items():
        meta = lock["packages"][f"node_modules/{package}"]
        manifest[package] = {"version": meta["version"], "license": meta.get("license", ""), "files": []}
        for source, target in files:
            dest = VENDOR / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            text = (SOURCE / "node_modules" / package / source).read_text(encoding="utf-8")
            if target.endswith((".mjs", ".css")):
                text = _SOURCE_MAP.sub("", text).rstrip() + "\n"
            dest.write_text(text, encoding="utf-8")
            manifest[package]["files"].append(target)
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    versions = ", ".join(f"{package} {meta['version']}" for package, meta in manifest.items())
    print(f"vendored {versions} into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
