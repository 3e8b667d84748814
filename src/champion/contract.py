"""The base of champion's published documents (`--json` output, files, HTTP answers).

Each document is a typed model, checked where it is made; its JSON Schema in
`docs/schemas/` (written by `python -m champion.cli.schemas`) is the contract for automation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Document(BaseModel):
    """A strict document: an unknown key is an error, so the schema says all there is."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def checked(cls, document: dict[str, Any]) -> dict[str, Any]:
        """`document`, after checking it against the contract (a `ValidationError` is our bug)."""
        cls.model_validate(document)
        return document
