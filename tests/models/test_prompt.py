"""Prompt building: frame condensation, the budget, and validation of the model's answer."""

from __future__ import annotations

import json

import pytest

from deskscribe.models import prompt
from deskscribe.models.facts import Facts, FrameView


def _frames(n: int, caption=lambda i: f"screen {i}", events_at=()) -> list[FrameView]:
    return [FrameView(i, float(i), None, None, f"h{i}", caption=caption(i),
                      acted=i in events_at) for i in range(n)]


def test_select_frames_drops_unchanged_and_keeps_first_last_and_events():
    frames = _frames(10, caption=lambda i: "same" if 2 <= i <= 7 else f"screen {i}", events_at=(5,))
    kept = [f.id for f in prompt.select_frames(frames, 12)]
    assert kept == [0, 1, 2, 5, 8, 9]


def test_select_frames_thins_long_episodes_to_the_limit():
    frames = _frames(100, events_at=(10, 50))
    kept = [f.id for f in prompt.select_frames(frames, 6)]
    assert len(kept) == 6
    assert {0, 10, 50, 99} <= set(kept)
    assert kept == sorted(kept)


def test_task_messages_carry_the_record_and_a_retry_states_the_problem():
    frames = _frames(3, caption=lambda i: f"screen {i}")
    facts = Facts(apps=["GIMP"], titles=["photo.xcf - GIMP"])
    steps = ["Clicked the 'Colors' menu in GIMP", "Typed '70' and pressed Enter in GIMP"]
    first = prompt.build_task_messages(facts, steps, frames)
    assert [m["role"] for m in first] == ["system"] + ["user", "assistant"] * 2 + ["user"]
    record = first[-1]["content"]
    assert "Apps: GIMP" in record and "- Typed '70' and pressed Enter in GIMP" in record
    assert "Last screen: screen 2" in record and "not usable" not in record
    retry = prompt.build_task_messages(facts, steps, frames, strict=True, problem="it named 'Lisbon'")
    assert "not usable (it named 'Lisbon')" in retry[-1]["content"]


@pytest.mark.parametrize("raw,why", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"did": "Opened GIMP and raised it"}', "lacks"),
    ('{"did": "The user was", "instruction": "Raise the contrast to 70."}', "names no task"),
    ('{"did": "Raised the contrast to 70 in GIMP.", "instruction": "Raised the contrast to 70."}',
     "not a request"),
    ('{"did": "a screenshot of a screenshot of a screenshot of a screenshot of a screenshot",'
     ' "instruction": "Take a screenshot."}', "repeats itself"),
    ('{"did": "Raise the contrast to 70 in GIMP.", "instruction": "Raise the contrast to 70 in GIMP"}',
     "same sentence"),
])
def test_invalid_answers_are_rejected(raw, why):
    with pytest.raises(prompt.InvalidOutput, match=why):
        prompt.parse_task(raw)


def test_valid_answer_is_normalised():
    answer = prompt.parse_task(
        '{"did": "1. raised  the contrast of photo.xcf to 70 in GIMP", "instruction": "- Raise the contrast to 70"}')
    assert answer.did == "Raised the contrast of photo.xcf to 70 in GIMP."
    assert answer.instruction == "Raise the contrast to 70."
    assert answer.task == answer.instruction and answer.parameters == {}  # a server's answer of the old shape
    assert not prompt.is_repetitive("Used GIMP to adjust the contrast of the picture to 70")


def test_the_task_json_carries_its_parameters_and_is_checked_as_a_request():
    answer = prompt.parse_task(json.dumps({
        "task": "set the contrast of photo.xcf to 70 in GIMP", "parameters": {"file": "photo.xcf", "contrast": 70,
                                                                              "empty": " "},
        "did": "Raised the contrast of photo.xcf to 70 in GIMP.", "instruction": "Make photo.xcf punchier in GIMP."}))
    assert answer.task == "Set the contrast of photo.xcf to 70 in GIMP."
    assert answer.parameters == {"file": "photo.xcf", "contrast": "70"}  # numbers as text, empty values dropped
    assert "'photo.xcf'" in answer.text() and "'70'" in answer.text()  # the parameters go to the evidence check
    with pytest.raises(prompt.InvalidOutput, match="not a request"):
        prompt.parse_task(json.dumps({"task": "Raised the contrast.", "parameters": {}, "did": "Raised it to 70.",
                                      "instruction": "Raise the contrast."}))
    with pytest.raises(prompt.InvalidOutput, match="parameters"):
        prompt.parse_task(json.dumps({"task": "Raise the contrast to 70.", "parameters": ["70"],
                                      "did": "Raised the contrast to 70.", "instruction": "Raise the contrast."}))
    assert set(prompt.TASK_SCHEMA["required"]) == {"task", "parameters", "did", "instruction"}
    for _ask, example in prompt.EXAMPLES:  # the worked examples are answers the parser takes
        assert prompt.parse_task(example).parameters
