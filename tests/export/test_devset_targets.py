"""The dev set's click steps (issue 22): each names what was clicked — the text item under the point, an
accessible name, or the icon there — and no step quotes icon noise. The 16 sessions through the real CLI
(import, describe, show), typed text not stored, as a user gets them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main
from deskscribe.models.readable import reads_as_text

pytestmark = pytest.mark.model

# Icon noise seen in steps before (issue 22): none of these may be quoted, whatever the classifier says.
NOISE = {"bd", "x", "=] (5) [|", "Oo", "gt tS 351IB", "TK sa ae ~S w", "Bog)", "@ New Tab"}


def test_click_steps_name_their_target_and_no_step_quotes_icon_noise(screenagent: Path) -> None:
    runner = CliRunner()
    folders = sorted(str(p) for p in screenagent.iterdir() if p.is_dir())
    assert runner.invoke(main, ["import", *folders]).exit_code == 0
    described = runner.invoke(main, ["describe", "--progress", "none"])
    assert described.exit_code == 0 and "described 16 of 16" in described.output, described.output
    clicks = named = 0
    quoted: list[str] = []
    for episode_id in range(1, 17):
        shown = json.loads(runner.invoke(main, ["show", str(episode_id), "--json"]).stdout)
        kinds = {a["event_id"]: a["kind"] for a in shown["actions"]}
        for step in shown["description"]["step_rows"]:
            quoted += re.findall(r"'([^']+)'", step["text"].replace("'s ", " "))
            if kinds.get(step["event_id"]) == "click":
                clicks += 1
                named += bool(step["evidence"].get("target")) or "the icon " in step["text"]
    # the target is 0.9; reached 39 of 42 (2026-12-05, with the pixels around the point: a downloads
    # panel's entry clicked right of its text is named by its first line, a toolbar's drop-down arrow is an
    # icon): the rest are a cell of an empty table, a cell of LibreOffice's table-size grid and an empty
    # taskbar spot, where nothing names the spot, so their steps name its place ("at the top of the screen")
    assert clicks == 42 and named >= 39, (named, clicks)
    assert not [q for q in quoted if q in NOISE or not reads_as_text(q)], quoted
