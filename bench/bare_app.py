"""The B3 baseline: a bare Starlette endpoint on uvicorn returning constant JSON.

It is served with the same uvicorn settings as `customjobs serve` (cli/main.py), so the
difference between the two is the cost of customjobs' own request path.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BODY = {"name": "projects/bench/locations/us-central1/customJobs/1", "state": "JOB_STATE_SUCCEEDED"}


async def constant(_: Request) -> Response:
    return JSONResponse(BODY)


def app() -> Starlette:
    return Starlette(routes=[Route("/healthz", constant), Route("/constant", constant)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = uvicorn.Config(
        app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
