"""The web console: static pages and JavaScript modules that use the public REST API only.

Nothing here imports the store, the scheduler or a backend: the browser fetches the
Vertex REST endpoints and /customjobs/v1/... like any other client. The npm packages it
uses (xterm.js, js-yaml) are committed under static/vendor; console/README.md at the
repository root says how they are refreshed.
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
