"""The one atomic writer: the whole new content or the old file, never a half-written one."""

from __future__ import annotations

import json

import pytest

from deskscribe.fileio import write_atomic, write_json_atomic


def test_replaces_the_file_and_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "sub" / "settings.toml"
    assert write_atomic(target, "a = 1\n") == target
    write_atomic(target, b"a = 2\n")
    assert target.read_text() == "a = 2\n"
    write_json_atomic(tmp_path / "m.json", {"b": 1, "a": [1]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": [1], "b": 1}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["m.json", "settings.toml", "sub"]


def test_a_failed_replace_keeps_what_was_there(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # os.replace of a file onto a folder fails: the folder and its content stay
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert (target / "keep").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
