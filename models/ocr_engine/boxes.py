"""The engine's side of the stored OCR shape (storage/boxes.py): encoding stamps the engine key."""

from __future__ import annotations

from deskscribe.models.ocr_engine.options import DEFAULT_ENGINE, engine_key
from deskscribe.storage.boxes import TextBox, Word, decode, words_of

decode_boxes = decode

__all__ = ["TextBox", "Word", "decode_boxes", "encode_boxes", "words_of"]


def encode_boxes(boxes: list[TextBox], width: int, height: int, *, carried: list[int] | None = None,
                 engine: str = DEFAULT_ENGINE) -> str:
    """Every OCR box, unfiltered and in engine order, at the image's full resolution (captions.ocr_boxes), with
    the key of the engine that read them (storage/boxes.py's shape)."""
    from deskscribe.storage.boxes import encode

    return encode(boxes, width, height, engine_key(engine), carried=carried)
