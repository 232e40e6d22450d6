"""Loading the instrument definitions (an adapter: reads package data, once)."""

from __future__ import annotations

import functools

from pydantic import BaseModel, ConfigDict

from hipspine.errors import KnowledgeBaseError, NotFoundError
from hipspine.instruments.definitions import InstrumentDefinition, InstrumentFile
from hipspine.kb import knowledge_files, knowledge_version, load_references, load_section
from hipspine.models.case import Case

INSTRUMENT_DIR = "instruments/"


class InstrumentKnowledge(BaseModel):
    """Every instrument definition plus the printable label of each cited reference."""

    model_config = ConfigDict(frozen=True)

    instruments: tuple[InstrumentDefinition, ...]
    citations: dict[str, str]
    version: str

    def get(self, instrument_id: str) -> InstrumentDefinition:
        for defn in self.instruments:
            if defn.id == instrument_id:
                return defn
        raise NotFoundError(f"no instrument {instrument_id!r}; known: "
                            + ", ".join(d.id for d in self.instruments))

    def citation(self, defn: InstrumentDefinition) -> str:
        return self.citations.get(defn.citation, defn.citation)


@functools.cache
def load_instrument_knowledge() -> InstrumentKnowledge:
    """Load and check every `knowledge/instruments/*.yaml` (cached; validated once)."""
    defs = [load_section(path, InstrumentFile).instrument
            for path in knowledge_files() if path.startswith(INSTRUMENT_DIR)]
    ids = [d.id for d in defs]
    if len(set(ids)) != len(ids):
        raise KnowledgeBaseError("instruments: duplicate instrument ids")
    for defn in defs:
        if defn.subject == "case":
            for path in defn.fields():
                if not case_field_exists(path):
                    raise KnowledgeBaseError(
                        f"instrument {defn.id}: {path!r} is not a field of the case format")
    refs = load_references()
    return InstrumentKnowledge(
        instruments=tuple(defs),
        citations={d.citation: refs[d.citation].short() for d in defs},
        version=knowledge_version(),
    )


def case_field_exists(path: str) -> bool:
    """True if the dotted `path` names a field of the case model (e.g. `exam.faber_positive`)."""
    model: type[BaseModel] | None = Case
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = _model_in(annotation)
    return True


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
