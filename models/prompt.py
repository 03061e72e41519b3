"""The task prompt: the evidence steps, apps and titles in; the task in two forms out, as constrained JSON.

Changing anything here that changes what the model is asked must bump :data:`PROMPT_VERSION`: it is part of
the describe model run's key, so a new version adds a new draft instead of being skipped as done.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from deskscribe.errors import InvalidOutput  # raised here; callers may catch prompt.InvalidOutput
from deskscribe.models.facts import Facts, FrameView

PROMPT_VERSION = "describe-v6"  # v6: one verb and its object (v5: the task as JSON with its parameters)
MAX_SUMMARY_CHARS = 160
MAX_STEPS = 8
MAX_STEP_CHARS = 120
PROMPT_BUDGET_CHARS = 6000  # ≈ 1,500 tokens: leaves room in a 2k–4k context for the answer

# The task as JSON, from the evidence steps (the steps themselves are not the model's to write): "task" is the
# imperative with the texts it needs, "parameters" those texts by name (OpenCUA's summarizer: actual_task), "did"
# the past tense, "instruction" the request a person would give an assistant.
MAX_PARAMETERS = 6
MAX_PARAMETER_CHARS = 80
_SENTENCE = {"type": "string", "minLength": 8, "maxLength": MAX_SUMMARY_CHARS}
TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "task": _SENTENCE,
        "parameters": {"type": "object", "additionalProperties": {"type": "string", "maxLength": MAX_PARAMETER_CHARS}},
        "did": {"type": "string", "minLength": 12, "maxLength": MAX_SUMMARY_CHARS},
        "instruction": _SENTENCE,
    },
    "required": ["task", "parameters", "did", "instruction"],
}
TASK_SYSTEM = (
    "You read a record of what a person did on a computer and write the task they achieved, not each step. "
    "Reply with JSON: \"task\" is one imperative sentence, one verb and its object, with the app and the few "
    "names, commands or texts it needs; \"parameters\" gives each of those texts a short name; \"did\" is "
    "the same task in the past tense, one verb and its object; \"instruction\" is the request the person "
    "would give an assistant to get the same thing done. What was achieved (a file saved, a folder made, a "
    "search run, a setting changed) matters more than the clicks and keys that did it. Use only names that "
    "appear in the record."
)
# Two worked examples, with apps that no test, benchmark session or dev-set episode uses: without them a
# 135M model copies the first step; with one alone it copies that example's verb. Each has several steps and
# one verb in its answer: what was achieved, not the steps glued together.
EXAMPLES = [
    ("Apps: Thunderbird\nWindow titles: Write: Lunch on Tuesday? - Thunderbird\nSteps:\n"
     "- Clicked the 'Write' button in Thunderbird\n- Typed 'anna@example.org' in Thunderbird\n"
     "- Typed 'Lunch on Tuesday?' in Thunderbird\n- Pressed Ctrl+Return (send) in Thunderbird",
     '{"task": "Send an email to anna@example.org with the subject \\"Lunch on Tuesday?\\" in Thunderbird.", '
     '"parameters": {"recipient": "anna@example.org", "subject": "Lunch on Tuesday?"}, '
     '"did": "Sent anna@example.org an email about lunch on Tuesday in Thunderbird.", '
     '"instruction": "Email anna@example.org from Thunderbird to ask her to lunch on Tuesday."}'),
    ("Apps: VLC\nWindow titles: holiday.mp4 - VLC media player\nSteps:\n"
     "- Clicked the 'Media' menu in VLC\n- Clicked 'Open File...' in VLC, which opened 'Select one or more files'\n"
     "- Double-clicked 'holiday.mp4' in VLC\n- Pressed F (full screen) in VLC",
     '{"task": "Play holiday.mp4 in full screen in VLC.", "parameters": {"file": "holiday.mp4"}, '
     '"did": "Played holiday.mp4 full screen in VLC.", '
     '"instruction": "Put my holiday.mp4 video on full screen in VLC."}'),
]


EXAMPLES_TEXT = " ".join(ask + " " + answer for ask, answer in EXAMPLES)
IMAGES_NOTE = ("The images: the screen before the first click with the clicked point circled in red, a close-up "
               "of that point, and the last screen.")


def select_frames(frames: list[FrameView], max_frames: int) -> list[FrameView]:
    """Frames worth showing the model: captions that changed, always first/last and those around actions,
    then evenly thinned to ``max_frames`` (frames around actions win)."""
    kept: list[FrameView] = []
    for i, frame in enumerate(frames):
        last = i == len(frames) - 1
        if kept and frame.caption == kept[-1].caption and not frame.acted and not last:
            continue
        kept.append(frame)
    if len(kept) <= max_frames:
        return kept
    must = [f for i, f in enumerate(kept) if i in (0, len(kept) - 1) or f.acted]
    if len(must) >= max_frames:
        step = len(must) / max_frames
        picked = {must[int(i * step)].id for i in range(max_frames - 1)} | {must[-1].id}
    else:
        others = [f for f in kept if f not in must]
        room = max_frames - len(must)
        step = len(others) / room
        picked = {f.id for f in must} | {others[int(i * step)].id for i in range(room)}
    return [f for f in kept if f.id in picked]


def record_block(facts: Facts, steps: list[str], frames: list[FrameView]) -> str:
    """The record the model reads: apps, window titles, the evidence steps, and the last screen's text."""
    lines = []
    if facts.apps:
        lines.append("Apps: " + ", ".join(facts.apps))
    if facts.titles:
        lines.append("Window titles: " + "; ".join(t[:80] for t in facts.titles[:4]))
    if steps:
        lines.append("Steps:")
        lines += [f"- {s}" for s in steps[:MAX_STEPS + 4]]
    if frames and frames[-1].caption:
        lines.append(f"Last screen: {frames[-1].caption[:200]}")
    return "\n".join(lines)


def build_task_messages(facts: Facts, steps: list[str], frames: list[FrameView], *, strict: bool = False,
                        problem: str | None = None) -> list[dict[str, str]]:
    """The chat asking for the task in two forms; a retry says what was wrong with the first answer."""
    user = record_block(facts, steps, frames)
    if strict:
        user += "\nYour last answer was not usable"
        user += f" ({problem})." if problem else "."
        user += " Write each sentence once, using only names from the steps above."
    shots = [m for ask, answer in EXAMPLES for m in ({"role": "user", "content": ask},
                                                    {"role": "assistant", "content": answer})]
    return [{"role": "system", "content": TASK_SYSTEM}, *shots, {"role": "user", "content": user}]


def with_images(messages: list[dict[str, Any]], images: list[bytes], note: str) -> list[dict[str, Any]]:
    """The chat with ``images`` (PNG/JPEG bytes) put before the last user message's text, for a VLM."""
    last = messages[-1]
    parts = image_parts(images)
    parts.append({"type": "text", "text": f"{note}\n{last['content']}"})
    return [*messages[:-1], {"role": last["role"], "content": parts}]


def image_parts(images: list[bytes]) -> list[dict[str, Any]]:
    """Chat content parts for images (PNG/JPEG/WebP bytes) as data: URIs."""
    from deskscribe.models.vlm import image_data_uri

    return [{"type": "image_url", "image_url": {"url": image_data_uri(im)}} for im in images]


def is_repetitive(text: str, n: int = 3, max_ratio: float = 0.34) -> bool:
    """True when the text loops: a large share of its word n-grams are repeats ("a screenshot of a …")."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < 2 * n + 2:
        return False
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) > max_ratio


# Words a question-echo or a placeholder is made of: an answer of only these names no task.
_EMPTY_WORDS = {"what", "which", "task", "tasks", "was", "were", "is", "the", "a", "an", "user", "users", "person",
                "doing", "did", "do", "it", "they", "he", "she", "working", "on", "summary", "steps", "instruction",
                "something", "computer", "used", "using", "use", "please", "help", "me", "with", "this", "that"}


_PAST = re.compile(r"^(?:\w+ed|\w+ing|ran|typed|saved|made|wrote|opened|went|took|did|was|were)\b", re.I)


def _sentence(text: str) -> str:
    text = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", " ".join(text.split())).strip(" \"'")
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class TaskAnswer:
    """The task in its forms: the imperative with its parameters, what was done, the request to an assistant."""

    task: str
    parameters: dict[str, str]
    did: str
    instruction: str

    def text(self) -> str:
        """Everything the answer names, for the evidence check."""
        return " ".join([self.task, self.did, self.instruction, *(f"'{v}'" for v in self.parameters.values())])


def _parameters(value: Any) -> dict[str, str]:
    """The answer's parameters: names → texts (a server's numbers kept as text), empty ones dropped."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidOutput("the model's \"parameters\" is not a JSON object")
    out = {str(k).strip()[:40]: " ".join(str(v).split())[:MAX_PARAMETER_CHARS]
           for k, v in value.items() if isinstance(v, (str, int, float)) and str(v).strip() and str(k).strip()}
    return dict(list(out.items())[:MAX_PARAMETERS])


def usable(text: str) -> None:
    """Raise InvalidOutput when a sentence of the model's names nothing or loops."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    if len(text.split()) < 3 or words <= _EMPTY_WORDS:
        raise InvalidOutput(f"the model's answer names no task: {text!r}")
    if is_repetitive(text):
        raise InvalidOutput(f"the model's answer repeats itself: {text[:80]!r}")


def parse_task(raw: str) -> TaskAnswer:
    """The model's task; raises :class:`InvalidOutput` with a one-line reason. A server's answer without
    "task" or "parameters" keeps the instruction as the task (they are the same imperative)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"the model's answer is not JSON ({exc.msg} at char {exc.pos}): {raw[:80]!r}") from exc
    if not isinstance(data, dict):
        raise InvalidOutput("the model's answer is not a JSON object")
    did, instruction, task = data.get("did"), data.get("instruction"), data.get("task", data.get("instruction"))
    if not isinstance(did, str) or not isinstance(instruction, str) or not isinstance(task, str):
        raise InvalidOutput("the model's answer lacks \"task\", \"did\" or \"instruction\"")
    did, instruction, task = _sentence(did), _sentence(instruction), _sentence(task)
    for text in (task, did, instruction):
        usable(text)
    for text in (task, instruction):
        if _PAST.match(text):
            raise InvalidOutput(f"the model's task is not a request: {text[:80]!r}")
    if re.sub(r"\W", "", did.lower()) == re.sub(r"\W", "", instruction.lower()):
        raise InvalidOutput("the model's two answers are the same sentence")
    return TaskAnswer(task, _parameters(data.get("parameters")), did, instruction)
