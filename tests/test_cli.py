import click
import pytest
from click.testing import CliRunner

from deskscribe.cli import main


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path,cmd", list(all_commands(main)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help(path, cmd):
    assert cmd.help and cmd.help.strip(), f"`deskscribe {' '.join(path)}` has no help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden and param.name not in ("help",):
            assert param.help, f"option {param.opts} of `deskscribe {' '.join(path)}` has no help"


def test_paths_honours_deskscribe_home(deskscribe_home):
    result = CliRunner().invoke(main, ["paths"])
    assert result.exit_code == 0 and str(deskscribe_home / "deskscribe.db") in result.output


def test_malformed_config_is_one_error_line(deskscribe_home):
    deskscribe_home.mkdir()
    (deskscribe_home / "config.toml").write_text("[capture]\ninterval_s = -1\n")
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {deskscribe_home / 'config.toml'}: capture.interval_s must be > 0 (got -1)"
    ]


def test_config_init_then_show(deskscribe_home):
    runner = CliRunner()
    assert runner.invoke(main, ["config", "init"]).exit_code == 0
    assert runner.invoke(main, ["config", "init"]).exit_code == 1
    out = runner.invoke(main, ["config", "show"]).output
    assert "interval_s = 2.0" in out


def test_import_reports_and_counts(screenagent, tmp_path):
    bad = tmp_path / "nothing"
    bad.mkdir()
    result = CliRunner().invoke(main, ["import", str(screenagent / "048c56fa99ef42c0976064e7b5598962"), str(bad)])
    assert "as episode 1 (7 frames)" in result.output
    assert "no readable images" in result.output
    assert result.exit_code == 1


def test_unwritable_data_folder_is_one_error_line(tmp_path, monkeypatch, screenagent):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setenv("DESKSCRIBE_HOME", str(ro / "home"))
    try:
        import os
        if os.geteuid() == 0:
            # root ignores permissions; a path under a regular file can never be created
            blocker = tmp_path / "file"
            blocker.write_text("")
            monkeypatch.setenv("DESKSCRIBE_HOME", str(blocker / "home"))
        result = CliRunner().invoke(main, ["import", str(screenagent / "048c56fa99ef42c0976064e7b5598962")])
    finally:
        ro.chmod(0o700)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: data folder") and "not writable" in lines[0]
