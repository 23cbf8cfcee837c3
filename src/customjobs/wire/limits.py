"""Length limits of list requests' free-text fields, the same over REST and gRPC.

A request body or message is already bounded (10 MiB over REST, 4 MiB over gRPC), but a
filter is parsed and a page token decoded: these caps keep that work small whatever arrives.
"""

from __future__ import annotations

from customjobs.errors import FieldViolation, InvalidArgument

# Cloud Logging documents 20,000 characters for a filter; Vertex's list filters are far shorter.
MAX_FILTER_CHARS = 20_000
MAX_PAGE_TOKEN_CHARS = 4096


def check_list_request(filter_text: str, page_token: str) -> None:
    for field, value, limit in (
        ("filter", filter_text, MAX_FILTER_CHARS),
        ("page_token", page_token, MAX_PAGE_TOKEN_CHARS),
    ):
        if len(value) > limit:
            message = f"Invalid {field}: longer than {limit} characters."
            raise InvalidArgument(message, (FieldViolation(field, message),))
