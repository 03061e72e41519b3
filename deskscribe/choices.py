"""The names of every model choice config accepts, with their help: data only, no implementation.

One home for the names: config validation (deskscribe/config.py) reads these tables without importing a stage,
and the implementations are keyed by them — ``models/registry.py`` gives each captioner and text backend its
opener (and refuses to load if a name here has none, or an opener has no name here), ``models/ocr_engine``
its engines, ``models/vlm.py`` the handler classes. Adding a captioner is a line here and its opener there.
"""

from __future__ import annotations

# frame captioners (models.captioner): name → one line of help (the settings dialog's tooltip and the README)
CAPTIONERS: dict[str, str] = {
    "ocr": "OCR text of the screen (models.ocr_engine) plus the window title (the default; CPU, offline)",
    "vlm": "a vision-language model (models.vlm_model + vlm_mmproj) describes each frame",
}

# text backends (models.backend)
BACKENDS: dict[str, str] = {
    "llama_cpp": "llama.cpp in this process on a local GGUF (models.summarizer)",
    "openai": "an OpenAI-compatible server at models.server_url",
}

# VLM chat handler name (models.vlm_handler) → llama_cpp.llama_chat_format class name (0.3.36 has no Gemma 3
# handler: its own chat template, through the generic MTMD handler, is what gemma-3 needs). "auto" picks one
# (models/vlm.py).
VLM_HANDLERS: dict[str, str] = {
    "llava15": "Llava15ChatHandler",
    "llava16": "Llava16ChatHandler",
    "moondream": "MoondreamChatHandler",
    "nanollava": "NanoLlavaChatHandler",
    "qwen25vl": "Qwen25VLChatHandler",
    "minicpmv26": "MiniCPMv26ChatHandler",
    "gemma3": "MTMDChatHandler",
    "gemma4": "Gemma4ChatHandler",
    "mtmd": "MTMDChatHandler",
}

# Who writes an episode's task (describe.compose): the text model, checked against the evidence, or the
# evidence steps themselves with no model call; "auto" is "evidence" for the bundled SmolLM2-135M alone (see
# models/describe.py resolve_compose).
COMPOSERS: dict[str, str] = {
    "auto": "the text model writes the task, except the bundled SmolLM2-135M: the steps do (the default)",
    "model": "the text model writes the task, checked against the evidence",
    "evidence": "the task is written from the evidence steps; no text model runs",
}

# OCR engines (models.ocr_engine), picked by measurement (bench/results/ocr_bench.md; models/ocr_engine)
OCR_ENGINES: dict[str, str] = {
    "hybrid": "RapidOCR's detector finds the lines, Tesseract reads them (the default)",
    "rapidocr": "RapidOCR's detector and recogniser, merged English words split back apart",
}
DEFAULT_OCR_ENGINE = "hybrid"
