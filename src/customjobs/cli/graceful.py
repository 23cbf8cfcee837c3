"""uvicorn's server with a drain phase in front of its shutdown.

On SIGTERM the runtime stops admitting (creates answer 503 UNAVAILABLE, /readyz 503) and
stops scheduling, handing the lease to a peer; replicas keep running. The server keeps
answering for `drain_grace_s`, so a load balancer sees it go unready and moves traffic,
then shuts down as uvicorn does (in-flight requests finish). A second signal exits at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import uvicorn

from customjobs.runtime import Runtime

log = logging.getLogger(__name__)


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, runtime: Runtime, drain_grace_s: float) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.drain_grace_s = drain_grace_s
        self._timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.runtime.begin_drain()
        if sig == signal.SIGTERM and self.drain_grace_s > 0 and self._timer is None:
            log.info("SIGTERM: draining for %.1fs, then exiting; replicas keep running", self.drain_grace_s)
            shutdown = super().handle_exit
            self._timer = threading.Timer(self.drain_grace_s, shutdown, (sig, frame))
            self._timer.daemon = True
            self._timer.start()
            return
        log.info("signal %d: shutting down; replicas keep running", sig)
        super().handle_exit(sig, frame)
