"""The reflector: a vision-language model says, per step, what changed on the screen and whether the step looks
right (OpenCUA's data/cot-generate does this per recorded step), and the answer is checked before it is kept.

It sees the frame before the action with the point ringed, a close-up around the point and the frame after
(models/marks.py; each image fitted to ``models.vlm_image_max_tokens`` by the VLM backend), plus the step's text,
action and evidence. On a CPU it reads only the steps the evidence could not name (no ``target``, no ``typed``):
about a fifth of a working hour's actions, which is what ``models recommend`` estimates. On a GPU it reads every
step. The reflection is stored in the step's evidence (``evidence["reflection"]``); the step's text stays the
step writer's. An answer that is not JSON, says nothing, or names what neither frame shows is kept as
``{"by": …, "rejected": reason}`` and the description is flagged for review, so a garbage answer never stands.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deskscribe.errors import InvalidOutput
from deskscribe.models import check as checklib
from deskscribe.models import evidence as evlib
from deskscribe.models import marks
from deskscribe.models.evidence import Action
from deskscribe.models.facts import Facts
from deskscribe.models.prompt import image_parts, usable
from deskscribe.models.steps import Step
from deskscribe.storage import events as ev
from deskscribe.storage.steps import model_author

REFLECT_VERSION = "reflect-v1"
MAX_TOKENS = 96  # "changed" is one sentence of at most 200 characters (~50 tokens) plus the JSON around it
GROUNDING = 0.5  # least share of the answer's content words that the step, its frames' text and titles contain
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "changed": {"type": "string", "minLength": 8, "maxLength": 200},
        "looks_right": {"type": "boolean"},
    },
    "required": ["changed", "looks_right"],
}
SYSTEM = (
    "You check one step of a recorded computer session. The images: the screen before the action with the point "
    "circled in red, a close-up of that point, and the screen after. Reply with JSON: \"changed\" is one sentence "
    "saying what changed on the screen after the action, naming only what the images or the record show; "
    "\"looks_right\" is true when the step text describes what was done, else false."
)


@dataclass
class Request:
    """One step to reflect on, prepared with the database (images, the step's own evidence)."""

    index: int  # the step's position in the episode's steps
    images: list[bytes]
    step: str
    action: str
    evidence: dict[str, Any]
    corpus: str  # normalised text the answer may name (checklib.corpus of the step's frames and its record)
    basis: str  # what the answer should be about: the step, its app and titles, what appeared
    apps: list[str] = field(default_factory=list)


def wanted(evidence: dict[str, Any], event_id: int | None, on_cpu: bool) -> bool:
    """Whether a step is read by the reflector: every step with an action on a GPU; on a CPU only those whose
    evidence names nothing (no ``target`` and no ``typed``)."""
    if event_id is None:
        return False
    return not on_cpu or not (evidence.get("target") or evidence.get("typed"))


def step_images(before: bytes, after: bytes | None, point: tuple[int, int] | None) -> list[bytes]:
    """Before (ringed at ``point`` when the action has one), a close-up of the point, after."""
    images = list(marks.mark_point(before, *point)) if point is not None else [before]
    return images + ([after] if after is not None else [])


def requests(image: Callable[[str], bytes], acts: list[Action], steps: list[Step], facts: Facts,
             on_cpu: bool) -> list[Request]:
    """The steps to reflect on (:func:`wanted`), each with its frames and the text its answer may name.
    ``image``: a frame's image bytes by its hash (the database's)."""
    by_event = {a.record.event_id: a for a in acts}
    out = []
    for i, step in enumerate(steps):
        if not wanted(step.evidence, step.event_id, on_cpu):
            continue
        action = by_event.get(step.event_id)  # type: ignore[arg-type]  # wanted() saw it is not None
        if action is None or action.before is None:
            continue
        x, y = getattr(action.event, "x", None), getattr(action.event, "y", None)
        images = step_images(image(action.before.image_hash),
                             image(action.after.image_hash) if action.after is not None else None,
                             (int(x), int(y)) if x is not None and y is not None else None)
        views = [v for v in (action.before, action.after) if v is not None]
        details = json.dumps(ev.to_details(action.event), ensure_ascii=False)
        appeared = evlib.change(action.before, action.after).new_lines
        basis = " ".join([step.text, *appeared, *(v.title or "" for v in views), *(v.app or "" for v in views)])
        out.append(Request(i, images, step.text, ev.describe(action.event), step.evidence,
                           checklib.corpus(views, [step.text], [details]), basis, list(facts.apps)))
    return out


def messages(req: Request) -> list[dict[str, Any]]:
    record = (f"Step: {req.step}\nAction: {req.action}\n"
              f"Evidence: {json.dumps(req.evidence, ensure_ascii=False, sort_keys=True)[:400]}")
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": [*image_parts(req.images), {"type": "text", "text": record}]}]


def parse(raw: str) -> tuple[str, bool]:
    """(changed, looks_right) from the model's answer; InvalidOutput with a one-line reason."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"the reflection is not JSON ({exc.msg} at char {exc.pos}): {raw[:60]!r}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("changed"), str) \
            or not isinstance(data.get("looks_right"), bool):
        raise InvalidOutput("the reflection lacks \"changed\" or a true/false \"looks_right\"")
    changed = " ".join(data["changed"].split())
    usable(changed)
    return changed, data["looks_right"]


def problem(changed: str, req: Request) -> str | None:
    """Why a readable reflection cannot be kept (None: it can): it names what the step's frames and record do
    not show, or its words are not about the step."""
    if not checklib.content_words(changed):
        return f"the reflection names nothing that changed: {changed[:60]!r}"
    missing = checklib.absent(changed, req.corpus, req.apps)
    if missing:
        return "the reflection names what the step's frames do not show: " + ", ".join(missing[:3])
    if checklib.grounding(changed, req.basis) < GROUNDING:
        return f"the reflection is not about the step: {changed[:60]!r}"
    return None


def reflect(vlm: Any, req: Request) -> dict[str, Any]:
    """The step's reflection by ``vlm`` (a Captioner with ``complete``): kept, or rejected with the reason.
    Model errors (a crashed backend) propagate: the episode's job fails with one line and is retried later."""
    by = model_author(str(vlm.info.model))
    raw = vlm.complete(messages(req), schema=SCHEMA, max_tokens=MAX_TOKENS)
    try:
        changed, looks_right = parse(raw)
    except InvalidOutput as exc:
        return {"by": by, "rejected": str(exc)}
    why = problem(changed, req)
    if why is not None:
        return {"by": by, "rejected": why}
    return {"by": by, "changed": changed, "looks_right": looks_right}


def review_note(reflections: dict[int, dict[str, Any]], steps: list[str]) -> str | None:
    """The description's review reason from its reflections: a step judged wrong, else a rejected answer."""
    for i, r in sorted(reflections.items()):
        if r.get("looks_right") is False:
            return f"the VLM judged step {i + 1} not right ({steps[i][:50]!r}): {r['changed'][:80]}"
    rejected = [(i, r) for i, r in sorted(reflections.items()) if "rejected" in r]
    if rejected:
        i, r = rejected[0]
        return f"{len(rejected)} of {len(reflections)} step reflections rejected (step {i + 1}: {r['rejected'][:80]})"
    return None
