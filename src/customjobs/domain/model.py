"""A version of a registered Model, as the model service sees it.

A Model is named projects/{p}/locations/{l}/models/{model_id}; each upload adds a version
numbered from 1. `spec_json` is the version's Model fields (proto JSON) as uploaded;
the name, version and times are the registry's. The version holding the alias "default"
is the one a name without "@version" means.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ALIAS = "default"


@dataclass(frozen=True)
class NewModelVersion:
    project: str
    location: str
    display_name: str
    labels: dict[str, str]
    spec_json: str
    aliases: tuple[str, ...]
    # Given: the model this version joins, or the id of a new model; None: a new id.
    model_id: str | None = None
    joins_existing: bool = False
    source_pipeline_id: int | None = None


@dataclass
class ModelVersion:
    id: int
    project: str
    location: str
    model_id: str
    version_id: int
    display_name: str
    aliases: list[str]
    spec_json: str
    create_us: int
    update_us: int
    model_create_us: int
    labels: dict[str, str] = field(default_factory=dict)
    source_pipeline_id: int | None = None

    @property
    def is_default(self) -> bool:
        return DEFAULT_ALIAS in self.aliases
