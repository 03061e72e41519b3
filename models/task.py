"""The episode's task: written by a model as JSON (the imperative with its parameters, what was done, the request
to an assistant), checked against the evidence — else written from the steps, flagged with the reason.

An answer that cannot be read is retried once with the problem stated; one that names something the evidence
lacks, copies the prompt's example or is not about the steps is not (see RETRY_UNFOUNDED). Each answer carries
its author: ``model:<file>`` or ``steps`` (storage/steps.py's vocabulary), stored with the description's task.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from deskscribe.models import check as checklib
from deskscribe.models import facts as factlib
from deskscribe.models import prompt as promptlib
from deskscribe.models import summary as summarylib
from deskscribe.models.evidence import Action
from deskscribe.models.steps import Step
from deskscribe.storage.steps import AUTHOR_STEPS, model_author

log = logging.getLogger(__name__)

# An answer is four short fields in JSON: the longer worked example is ~110 tokens. One the model has not finished
# by MAX_TOKENS is not what was asked (SmolLM2-135M's rambles run to ~100 tokens per sentence, 0.015-0.02 s each
# on 2 cores).
MAX_TOKENS = 192
# An answer the check rejects is not asked again: on the dev set the second answer passed for 0 of 14 such
# episodes (bench/results/describe_bench.md, stop 16) while the retry took nearly half the model time of a
# day (bench/results/day_bench.md). An answer that cannot be read is asked again, with the problem stated.
RETRY_UNFOUNDED = False
GROUNDING = 0.5  # least share of an answer's content words that the steps, apps and titles contain


@dataclass
class Answer:
    """What the describe stage produced for one episode: the task, who wrote it, why it is flagged (None: it is
    not), and the per-step reflections of a VLM (step index → evidence["reflection"])."""

    task: promptlib.TaskAnswer
    by: str
    reason: str | None = None
    reflections: dict[int, dict[str, Any]] = field(default_factory=dict)

    def stored_task(self) -> dict[str, Any]:
        return {"task": self.task.task, "parameters": self.task.parameters, "by": self.by}


@dataclass
class Clock:
    """Seconds and calls spent in the model, added to the batch's timers by the caller."""

    seconds: float = 0.0
    calls: int = 0


def from_steps(steps: list[Step], actions: list[Action], facts: factlib.Facts, reason: str | None = None) -> Answer:
    """The task summarised from the steps' evidence and their actions (models/summary.py)."""
    did, instruction = summarylib.summarize(steps, actions, factlib.main_apps(facts))
    return Answer(promptlib.TaskAnswer(instruction, {}, did, instruction), AUTHOR_STEPS, reason)


def messages_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last (the episode's) user message, whether plain or with images."""
    content = messages[-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def _problem(answer: promptlib.TaskAnswer, steps: list[str], facts: factlib.Facts, evidence: str,
             messages: list[dict[str, Any]]) -> str | None:
    """Why a readable answer cannot stand, or None: the check against the evidence."""
    missing = checklib.absent(answer.text(), evidence, facts.apps)
    if missing:
        return "the model's answer names what the episode does not show: " + ", ".join(missing[:3])
    copied = checklib.borrowed(answer.text(), promptlib.EXAMPLES_TEXT, messages_text(messages))
    if copied:
        return "the model's answer copies the prompt's example: " + ", ".join(copied[:3])
    basis = " ".join([*steps, *facts.apps, *facts.titles])
    loose = [t for t in (answer.task, answer.did, answer.instruction) if checklib.grounding(t, basis) < GROUNDING]
    if loose:
        return f"the model's answer is not about the steps: {loose[0][:60]!r}"
    return None


def ask(model: Any, facts: factlib.Facts, done: tuple[list[Step], list[Action]], shown: list[factlib.FrameView],
        evidence: str, images: list[bytes] | None, clock: Clock) -> Answer:
    """The model's task when usable and checked, else one from the steps with the reason. ``done``: the steps
    and their actions; ``images``: the marked frames for a VLM (``model`` then reads them)."""
    steps = [s.text for s in done[0]]
    problem: str | None = None
    for strict in (False, True):
        messages: list[dict[str, Any]] = promptlib.build_task_messages(facts, steps, shown, strict=strict,
                                                                       problem=problem)
        if images:
            messages = promptlib.with_images(messages, images, promptlib.IMAGES_NOTE)
        start = time.perf_counter()
        try:
            raw = model.complete(messages, schema=promptlib.TASK_SCHEMA, max_tokens=MAX_TOKENS)
        finally:
            clock.seconds += time.perf_counter() - start
            clock.calls += 1
        if int((getattr(model, "last_usage", None) or {}).get("completion_tokens", 0)) >= MAX_TOKENS:
            problem = f"the model's answer ran past {MAX_TOKENS} tokens (one sentence each was asked)"
            break  # a rambling answer rambles again when asked again
        try:
            answer = promptlib.parse_task(raw)
        except promptlib.InvalidOutput as exc:
            problem = str(exc)
        else:
            problem = _problem(answer, steps, facts, evidence, messages)
            if problem is None:
                return Answer(answer, model_author(str(model.info.model)))
            if not RETRY_UNFOUNDED:
                break
        if not strict:
            log.info("%s, retrying", problem)
    log.info("%s, writing the task from the steps", problem)
    return from_steps(*done, facts, problem)
