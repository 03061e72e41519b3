"""The dialogs offer what the registries hold: the settings' model choices and the export formats."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from deskscribe.app.export_dialog import ExportDialog
from deskscribe.app.settings_dialog import SettingsDialog
from deskscribe.export import registry as formats
from deskscribe.models import registry as models

pytestmark = pytest.mark.gui


def _items(box) -> list[str]:  # type: ignore[no-untyped-def]
    return [box.itemText(i) for i in range(box.count())]


def test_settings_offer_the_registered_captioners_and_backends_with_their_help(qtbot, deskscribe_home):
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    for box, table in ((dialog.captioner, models.CAPTIONERS), (dialog.backend, models.BACKENDS)):
        assert _items(box) == list(table)
        for i, entry in enumerate(table.values()):
            assert box.itemData(i, Qt.ItemDataRole.ToolTipRole) == entry.help


def test_the_export_dialog_offers_every_registered_format(qtbot, tmp_path):
    dialog = ExportDialog(tmp_path / "out")
    qtbot.addWidget(dialog)
    assert _items(dialog.format) == formats.names() and not dialog.format.isEditable()
