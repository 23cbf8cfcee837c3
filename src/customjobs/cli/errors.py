"""Errors the command line reports, and how they reach the user.

Commands raise `CommandError`; `JobsCommand` prints it the way gcloud does,
`ERROR: (customjobs.jobs.describe) NOT_FOUND: <message>`, and exits with its code.
"""

from __future__ import annotations

from typing import Any

import click

FAILURE_EXIT = 1


class CommandError(Exception):
    """A failure to report on stderr; `exit_code` is the process's exit status."""

    def __init__(self, message: str, exit_code: int = FAILURE_EXIT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class InvalidFlag(CommandError):
    """A flag's value the server would never see, worded as gcloud words it."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"Invalid value for [{flag}]: {message}")
        self.flag = flag


class ApiError(CommandError):
    """A Google error envelope (`{"error": {"code", "message", "status"}}`) from the server."""

    def __init__(self, status: str, message: str, http_status: int = 0) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.http_status = http_status


class JobsCommand(click.Command):
    """A click command that turns a CommandError into `ERROR: (customjobs.jobs.<verb>) ...`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CommandError as error:
            click.echo(f"ERROR: (customjobs.jobs.{self.name}) {error}", err=True)
            raise click.exceptions.Exit(error.exit_code) from error
