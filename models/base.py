"""The interfaces between the model runtimes (backends, VLM) and the describe pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Abilities:
    """What a loaded model can do, as its preset entry or its GGUF declares it (never guessed from a file name):
    see :mod:`deskscribe.models.abilities`."""

    vision: bool = False  # reads images (a VLM with its mmproj, or a server serving one)
    json_output: bool = True  # answers can be constrained to a JSON schema (llama.cpp grammar / response_format)
    params_b: float | None = None  # parameters in billions, counted from the GGUF's tensors; None: a server


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of a loaded model: recorded with every caption and description it produces."""

    backend: str  # llama_cpp | openai | ocr
    model: str  # file name, or the server's model id
    sha256: str | None = None  # of the model file (and mmproj, joined with '+'), None for servers
    params: dict[str, Any] = field(default_factory=dict)  # everything that changes outputs
    abilities: Abilities = field(default_factory=Abilities)


class TextModel(Protocol):
    @property
    def info(self) -> ModelInfo: ...  # a plain attribute or a property

    def complete(
        self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        """Chat completion; with ``schema`` the answer is constrained to JSON matching it."""
        ...

    def close(self) -> None: ...


class Captioner(Protocol):
    @property
    def info(self) -> ModelInfo: ...

    def caption(self, image: bytes, *, app: str | None = None, title: str | None = None) -> tuple[str, str | None]:
        """Describe one frame: returns (caption text, OCR text or None)."""
        ...

    def close(self) -> None: ...
