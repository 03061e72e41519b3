"""What a model can do, and who writes an episode's task with it (``describe.compose = "auto"``).

A model's abilities come from what it declares: its preset entry (models/presets.py: vision, JSON output) and its
GGUF (the parameter count is the sum of its tensors' elements, read by models/gguf_file.py — exact, whatever the
quantization). Nothing is guessed from a file name. The rule for "auto" is :func:`writes_tasks`: a text model of
at least :data:`MIN_TASK_PARAMS_B` billion parameters, a server (the person chose and runs it), or a
vision-language model writes the task; a smaller model (the bundled SmolLM2-135M) leaves it to the steps —
its answer passed the evidence check for 2-3 of 16 dev-set episodes (bench/results/describe_bench.md).
"""

from __future__ import annotations

from deskscribe.models.base import Abilities, ModelInfo
from deskscribe.models.gguf_file import GGUFSummary
from deskscribe.models.presets import PRESETS

MIN_TASK_PARAMS_B = 1.0


def of_gguf(summary: GGUFSummary, preset: str = "", *, vision: bool = False) -> Abilities:
    """A llama.cpp model's abilities: its size from the GGUF, the rest from its preset entry when it is one.

    ``vision``: the model is loaded with its mmproj (as a VLM); a VLM's GGUF loaded alone is a text model.
    """
    entry = PRESETS.get(preset.strip().lower())
    json_output = entry.json_output if entry is not None else True  # llama.cpp constrains any model by grammar
    return Abilities(vision=vision, json_output=json_output, params_b=summary.n_params / 1e9)


def writes_tasks(info: ModelInfo) -> bool:
    """Whether this model writes the task under ``describe.compose = "auto"``: a server, a VLM, or a model of
    at least :data:`MIN_TASK_PARAMS_B` billion parameters that can answer in JSON."""
    a = info.abilities
    if not a.json_output:
        return False
    if info.backend != "llama_cpp" and a.params_b is None:
        return True  # a server the person runs: its size is not ours to read
    return a.vision or (a.params_b is not None and a.params_b >= MIN_TASK_PARAMS_B)
