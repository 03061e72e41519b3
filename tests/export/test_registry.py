"""One list of export formats: the CLI choice, its help, the export loop and the dialog all read the registry."""

from __future__ import annotations

import click
import pytest

from deskscribe.errors import ExportError
from deskscribe.export import cli as export_cli
from deskscribe.export import core, registry
from deskscribe.export.writer import FormatWriter


def test_every_registered_format_has_a_writer_and_help():
    for name, fmt in registry.FORMATS.items():
        assert fmt.name == name and fmt.help.strip()
        assert issubclass(fmt.load(), FormatWriter), name


def test_the_cli_offers_exactly_the_registered_formats_and_explains_each():
    (arg,) = [p for p in export_cli.export_cmd.params if isinstance(p, click.Argument) and p.name == "fmt"]
    assert isinstance(arg.type, click.Choice) and list(arg.type.choices) == registry.names()
    for name in registry.names():
        assert f"\n  {name} " in export_cli.FORMAT_HELP


def test_an_unknown_format_is_one_line_naming_the_known_ones():
    with pytest.raises(ExportError, match="unknown format 'parquet': choose one of hf, llama-factory"):
        core.check_options("parquet", core.ExportOptions())


def test_a_format_limit_on_images_comes_from_its_writer():
    limited = {n: f.load().max_images for n, f in registry.FORMATS.items() if f.load().max_images is not None}
    assert limited == {"openai": 10}
    with pytest.raises(ExportError, match="the openai format allows at most 10 images"):
        core.check_options("openai", core.ExportOptions(max_images=11))
    core.check_options("hf", core.ExportOptions(max_images=11))
