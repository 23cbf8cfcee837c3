"""Model names: projects/{p}/locations/{l}/models/{model_id}, with "@{version or alias}".

A model id chosen by the caller follows Vertex's rule (`[a-z0-9_-]`, at most 63, not
starting with a digit or hyphen); ids this server picks are decimal, as Vertex's are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from customjobs import names
from customjobs.errors import InvalidArgument

COLLECTION = "models"
_SEGMENT = r"[^/@:]+"
_NAME = re.compile(rf"^projects/({_SEGMENT})/locations/({_SEGMENT})/models/({_SEGMENT})(?:@({_SEGMENT}))?$")
_GIVEN_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")


@dataclass(frozen=True)
class ModelRef:
    parent: names.Parent
    model_id: str
    version: str | None  # a version number or an alias; None: the default version

    @property
    def name(self) -> str:
        return model_name(self.parent.project, self.parent.location, self.model_id)


def model_name(project: str, location: str, model_id: str) -> str:
    return f"projects/{project}/locations/{location}/models/{model_id}"


def parse_model_name(text: str, versioned: bool = True) -> ModelRef:
    match = _NAME.match(text)
    if match is None or not _ID.fullmatch(match[3]) or (match[4] and not versioned):
        suffix = "[@{version}]" if versioned else ""
        raise InvalidArgument(
            f'Invalid model name "{text}": expected projects/{{project}}/locations/{{location}}'
            f"/models/{{model}}{suffix}."
        )
    return ModelRef(names.parse_parent(f"projects/{match[1]}/locations/{match[2]}"), match[3], match[4])


def given_id_problem(model_id: str) -> str | None:
    if _GIVEN_ID.fullmatch(model_id):
        return None
    return "Must be at most 63 characters of [a-z0-9_-], and must not start with a digit or a hyphen."
