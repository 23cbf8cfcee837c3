"""Errors the command line reports, and how they reach the user.

Commands raise `CommandError`; `ReportedError` prints it the way gcloud does,
`ERROR: (customjobs.jobs.describe) NOT_FOUND: <message>`, and exits with its code.
"""

from __future__ import annotations

from typing import IO, Any

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


class ReportedError(click.ClickException):
    """A CommandError bound to the command that raised it, printed without click's `Error:`."""

    def __init__(self, command: str, error: CommandError) -> None:
        super().__init__(f"({command}) {error}")
        self.exit_code = error.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"ERROR: {self.format_message()}", file=file, err=file is None)


class JobsCommand(click.Command):
    """A click command that turns a CommandError into `ERROR: (customjobs.jobs.<verb>) ...`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CommandError as error:
            raise ReportedError(f"customjobs.jobs.{self.name}", error) from error
