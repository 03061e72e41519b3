"""The episode prompt: condensed frames + deterministic facts in, constrained JSON out.

Changing anything here that changes what the model is asked must bump :data:`PROMPT_VERSION`: it is part of
the describe model run's key, so a new version adds a new draft instead of being skipped as done.
"""

from __future__ import annotations

import json
import re
from typing import Any

from deskscribe.errors import InvalidOutput  # raised here; callers may catch prompt.InvalidOutput
from deskscribe.models.facts import Facts, FrameView

PROMPT_VERSION = "describe-v2"
MAX_SUMMARY_CHARS = 160
MAX_STEPS = 8
MAX_STEP_CHARS = 120
PROMPT_BUDGET_CHARS = 6000  # ≈ 1,500 tokens: leaves room in a 2k–4k context for the answer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 8, "maxLength": MAX_SUMMARY_CHARS},
        "steps": {
            "type": "array",
            "items": {"type": "string", "minLength": 3, "maxLength": MAX_STEP_CHARS},
            "maxItems": MAX_STEPS,
        },
    },
    "required": ["summary", "steps"],
}

SYSTEM = (
    "You write short, factual descriptions of what a computer user did, from screen text and input events. "
    "Answer with JSON only: a one-sentence summary that starts with a past-tense verb and names the app, "
    "and the steps in order. Use only the facts given."
)

# Hybrid mode: the model only names the task (the summary's core); steps come from the facts.
TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 6, "maxLength": 80},
        "steps": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 2},
    },
    "required": ["summary", "steps"],
}
TASK_SYSTEM = (
    "You name the task a computer user was working on, from the apps, what they clicked, what appeared on "
    "screen and what they typed. Reply with JSON: \"summary\" is the task as a short phrase that starts with "
    "a verb, in lower case, using the key words from the facts; \"steps\" may stay empty."
)


def select_frames(frames: list[FrameView], max_frames: int) -> list[FrameView]:
    """Frames worth showing the model: captions that changed, always first/last and those with events,
    then evenly thinned to ``max_frames`` (frames with events win)."""
    kept: list[FrameView] = []
    for i, frame in enumerate(frames):
        last = i == len(frames) - 1
        if kept and frame.caption == kept[-1].caption and not frame.events and not last:
            continue
        kept.append(frame)
    if len(kept) <= max_frames:
        return kept
    must = [f for i, f in enumerate(kept) if i in (0, len(kept) - 1) or f.events]
    if len(must) >= max_frames:
        step = len(must) / max_frames
        picked = {must[int(i * step)].id for i in range(max_frames - 1)} | {must[-1].id}
    else:
        others = [f for f in kept if f not in must]
        room = max_frames - len(must)
        step = len(others) / room
        picked = {f.id for f in must} | {others[int(i * step)].id for i in range(room)}
    return [f for f in kept if f.id in picked]


def facts_block(facts: Facts) -> str:
    lines = []
    if facts.apps:
        lines.append("Apps: " + ", ".join(facts.apps))
    if facts.titles:
        lines.append("Window titles: " + "; ".join(t[:80] for t in facts.titles[:4]))
    if facts.typed:
        lines.append("Typed: " + ", ".join(f"'{t}'" for t in facts.typed))
    if facts.shortcuts:
        lines.append("Shortcuts: " + ", ".join(dict.fromkeys(facts.shortcuts)))
    if facts.opened:
        lines.append("Opened by clicks: " + ", ".join(f"'{o}'" for o in facts.opened[:8]))
    if facts.steps:
        lines.append("Steps seen:")
        lines += [f"{i}. {s}" for i, s in enumerate(facts.steps[:12], 1)]
    return "\n".join(lines)


def build_messages(facts: Facts, frames: list[FrameView], *, budget_chars: int = PROMPT_BUDGET_CHARS,
                   strict: bool = False) -> list[dict[str, str]]:
    """The chat for one episode; screens are shortened until the whole prompt fits ``budget_chars``."""
    head = facts_block(facts)
    room = max(200, budget_chars - len(SYSTEM) - len(head) - 100)
    if len(frames) * 60 > room:  # too many screens for even a short line each: show fewer
        frames = select_frames(frames, max(2, room // 60))
    per_frame = max(60, room // max(1, len(frames)))
    screens = [f"{i}. {f.caption[:per_frame]}" for i, f in enumerate(frames, 1)]
    user = f"{head}\nScreens:\n" + "\n".join(screens)
    if strict:
        user += "\nWrite one plain sentence for the summary; do not repeat words."
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def build_task_messages(facts: Facts, frames: list[FrameView], *, strict: bool = False) -> list[dict[str, str]]:
    """A short chat asking only for the task phrase: facts, plus the last screen for context."""
    user = facts_block(facts)
    if frames:
        user += f"\nLast screen: {frames[-1].caption[:240]}"
    user += "\nWhat task was the user doing?"
    if strict:
        user += " Answer with a few plain words; do not repeat words."
    return [{"role": "system", "content": TASK_SYSTEM}, {"role": "user", "content": user}]


_FILLER = re.compile(
    r"^(?:the )?user (?:was |is )?|^(?:was |is )?(?:working on|doing|performing) (?:a |the )?task (?:that|which) "
    r"(?:involved|involves|was) |^(?:using|used|in|with) (?:the |a )?[\w.+ -]{1,40}? (?:app |application |browser )?to ",
    re.I,
)


def task_phrase(raw: str) -> str:
    """The model's task phrase, cut to its first clause and stripped of filler small models add."""
    phrase = re.split(r"[,.;:!?]\s|\s(?:which|and they|and it|so that)\s", raw.strip() + " ", maxsplit=1)[0]
    for _ in range(3):
        phrase = _FILLER.sub("", phrase.strip()).strip()
    return phrase.strip(" .,;:'\"")


# Words of the question the task prompt asks: an answer made only of these just echoes the question.
_QUESTION_WORDS = {"what", "which", "task", "tasks", "was", "were", "is", "the", "a", "an", "user", "users",
                   "doing", "did", "do", "it", "they", "he", "she", "working", "on", "summary", "steps"}


def compose_summary(phrase: str, apps: list[str], titles: list[str] | None = None) -> str:
    """"Used GIMP to adjust the contrast." from the model's task phrase and the apps the facts found."""
    phrase = task_phrase(phrase)
    squash = lambda t: re.sub(r"[^a-z0-9]", "", t.lower())  # noqa: E731
    if apps and squash(phrase) in {squash(a) for a in apps}:  # the model only named the app
        return f"Used {' and '.join(apps)}."
    echoed = [t for t in titles or [] if squash(phrase) and squash(phrase) in squash(t)]
    if echoed:  # the model only repeated a window title: say where, claim no task
        where = f"Used {' and '.join(apps)}" if apps else "Worked"
        return f"{where} in '{echoed[0]}'."
    if len(phrase.split()) < 2:
        raise InvalidOutput(f"the model's answer names no task: {phrase!r}")
    if set(re.findall(r"[a-z]+", phrase.lower())) <= _QUESTION_WORDS:
        raise InvalidOutput(f"the model's answer only repeats the question: {phrase!r}")
    where = " and ".join(apps)
    first = phrase.split()[0].lower()
    if not where:
        return phrase[0].upper() + phrase[1:] + "."
    if first.endswith("ed"):
        return f"{phrase[0].upper() + phrase[1:]} in {where}."
    if first.endswith("ing"):
        return f"Used {where}, {phrase[0].lower() + phrase[1:]}."
    return f"Used {where} to {phrase[0].lower() + phrase[1:]}."


def is_repetitive(text: str, n: int = 3, max_ratio: float = 0.34) -> bool:
    """True when the text loops: a large share of its word n-grams are repeats ("a screenshot of a …")."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < 2 * n + 2:
        return False
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) > max_ratio


def parse_answer(raw: str) -> tuple[str, list[str]]:
    """Validate the model's JSON answer; raises :class:`InvalidOutput` with a one-line reason."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"the model's answer is not JSON ({exc.msg} at char {exc.pos}): {raw[:80]!r}") from exc
    if not isinstance(data, dict):
        raise InvalidOutput("the model's answer is not a JSON object")
    summary = data.get("summary")
    steps = data.get("steps", [])
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidOutput("the model's answer has an empty summary")
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise InvalidOutput("the model's steps are not a list of strings")
    summary = " ".join(summary.split())
    # one-word steps are schema echoes ("steps") or fragments, never a step a person did
    steps = [" ".join(s.split()) for s in steps if len(s.split()) >= 2]
    if is_repetitive(summary) or is_repetitive(" ".join(steps)):
        raise InvalidOutput(f"the model's answer repeats itself: {summary[:80]!r}")
    return summary, steps
