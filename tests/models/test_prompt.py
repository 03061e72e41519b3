"""Prompt building: frame condensation, the budget, and validation of the model's answer."""

from __future__ import annotations

import pytest

from deskscribe.models import prompt
from deskscribe.models.facts import Facts, FrameView


def _frames(n: int, caption=lambda i: f"screen {i}", events_at=()) -> list[FrameView]:
    return [FrameView(i, float(i), None, None, f"h{i}", caption=caption(i),
                      events=[{"kind": "click", "details": {}}] if i in events_at else []) for i in range(n)]


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


def test_messages_fit_the_budget_and_carry_facts():
    frames = _frames(40, caption=lambda i: f"screen {i} " + "word " * 200)
    facts = Facts(apps=["GIMP"], typed=["70"], steps=["Typed '70'"])
    messages = prompt.build_messages(facts, frames, budget_chars=3000)
    total = sum(len(m["content"]) for m in messages)
    assert total < 3000 + 40 * 8  # numbering overhead only
    assert "Apps: GIMP" in messages[-1]["content"] and "Typed: '70'" in messages[-1]["content"]
    assert [m["role"] for m in messages] == ["system", "user"]
    task = prompt.build_task_messages(facts, frames)
    assert "Typed: '70'" in task[-1]["content"] and "Last screen: screen 39" in task[-1]["content"]


@pytest.mark.parametrize("raw,why", [
    ("not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"summary": "  ", "steps": []}', "empty summary"),
    ('{"summary": "Did things", "steps": [1]}', "not a list of strings"),
    ('{"summary": "a screenshot of a screenshot of a screenshot of a screenshot of a screenshot", "steps": []}',
     "repeats itself"),
])
def test_invalid_answers_are_rejected(raw, why):
    with pytest.raises(prompt.InvalidOutput, match=why):
        prompt.parse_answer(raw)


def test_valid_answer_is_normalised():
    summary, steps = prompt.parse_answer('{"summary": " Opened  GIMP\\n", "steps": ["Clicked Colors", " "]}')
    assert summary == "Opened GIMP" and steps == ["Clicked Colors"]
    assert not prompt.is_repetitive("Used GIMP to adjust the contrast of the picture to 70")


@pytest.mark.parametrize("phrase,apps,summary", [
    ("adjust the contrast of the photo", ["GIMP"], "Used GIMP to adjust the contrast of the photo."),
    ("The user was working on a task that involved editing a table, and they saved it", ["LibreOffice Writer"],
     "Used LibreOffice Writer, editing a table."),
    ("Using the Firefox browser to delete a bookmark.", ["Firefox"], "Used Firefox to delete a bookmark."),
    ("deleted a file", ["Terminal"], "Deleted a file in Terminal."),
    ("open the settings", [], "Open the settings."),
    ("Task Manager.", ["Task Manager"], "Used Task Manager."),
])
def test_summary_is_composed_from_the_task_phrase_and_apps(phrase, apps, summary):
    assert prompt.compose_summary(phrase, apps) == summary


def test_a_phrase_without_a_task_is_invalid():
    with pytest.raises(prompt.InvalidOutput, match="names no task"):
        prompt.compose_summary("The user was", ["GIMP"])


def test_an_answer_that_echoes_the_question_is_invalid():
    import pytest as _pytest

    from deskscribe.models import prompt as _prompt

    with _pytest.raises(_prompt.InvalidOutput, match="repeats the question"):
        _prompt.compose_summary("task was the user doing it", ["Terminal"])
    assert _prompt.compose_summary("check the date in a loop", ["Terminal"]) == "Used Terminal to check the date in a loop."


def test_one_word_steps_are_dropped():
    from deskscribe.models import prompt as _prompt

    assert _prompt.parse_answer('{"summary": "Ran a build", "steps": ["steps", "Typed make"]}') == (
        "Ran a build", ["Typed make"])


def test_an_answer_that_only_repeats_a_window_title_claims_no_task():
    from deskscribe.models import prompt as _prompt

    assert _prompt.compose_summary("newcomer terminal", ["Terminal"], ["newcomer terminal"]) == (
        "Used Terminal in 'newcomer terminal'.")
