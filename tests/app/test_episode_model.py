"""The episode table model: Qt's model contract (with paging), filters and full-text search."""

from __future__ import annotations

import datetime as dt

import pytest

from deskscribe.app.episode_model import EPISODE_ID_ROLE, EpisodeTableModel
from deskscribe.storage import review

pytestmark = pytest.mark.gui


def test_model_contract_with_paging(qtmodeltester, synthetic):
    model = EpisodeTableModel(synthetic, page_size=7)
    assert model.rowCount() == 7 and model.canFetchMore()
    qtmodeltester.check(model)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 30
    ids = [model.data(model.index(r, 0), EPISODE_ID_ROLE) for r in range(30)]
    assert ids == list(range(30, 0, -1))  # newest first, no row twice across page boundaries
    qtmodeltester.check(model)


def test_filters_by_status_app_and_day(qtmodeltester, synthetic):
    model = EpisodeTableModel(synthetic, page_size=5)
    model.set_filter(review.EpisodeFilter(status="accepted"))
    qtmodeltester.check(model)
    while model.canFetchMore():
        model.fetchMore()
    # fill_synthetic: episode i is status STATUSES[i % 4] when i % 3 == 0
    expected = [i for i in range(30, 0, -1) if i % 3 == 0 and review.STATUSES[i % 4] == "accepted"]
    assert [r["id"] for r in model.rows] == expected == [r["id"] for r in model.rows if r["status"] == "accepted"]
    assert model.total() == len(expected)

    model.set_filter(review.EpisodeFilter(app="app3"))
    assert {r["id"] % 7 for r in model.rows} == {3} and model.total() == len([i for i in range(1, 31) if i % 7 == 3])

    first_day = dt.date.fromtimestamp(1_700_000_000.0 + 600)
    day_count = dict(review.days(synthetic))[first_day]
    model.set_filter(review.EpisodeFilter(day=first_day))
    assert model.total() == day_count
    assert all(dt.date.fromtimestamp(r["start_ts"]) == first_day for r in model.rows)


def test_search_finds_descriptions_and_titles(qtmodeltester, imported, synthetic):
    model = EpisodeTableModel(synthetic)
    model.set_filter(review.EpisodeFilter(search="contrast"))
    qtmodeltester.check(model)
    assert [r["id"] for r in model.rows] == [imported]
    # synthetic episodes are 2..31 here; every 10th has a description. Words match as prefixes: "2" → 20.
    model.set_filter(review.EpisodeFilter(search="synthetic episode 2"))
    assert [r["id"] for r in model.rows] == [20]
    model.set_filter(review.EpisodeFilter(search='window 12 "(*'))  # punctuation is dropped, not parsed
    assert [r["id"] for r in model.rows] == [12]
    model.set_filter(review.EpisodeFilter(search="nothing-matches-this"))
    assert model.rowCount() == 0 and not model.canFetchMore()
    assert review.search_episode_ids(synthetic, "contrast") == [imported]


def test_refresh_and_remove_rows(qtmodeltester, synthetic):
    model = EpisodeTableModel(synthetic, page_size=10)
    review.review(synthetic, 29, "rejected")
    model.refresh_episode(29)
    assert model.data(model.index(1, 4)) == "rejected"
    review.delete_episode(synthetic, 30)
    model.refresh_episode(30)
    assert model.episode_id(0) == 29
    qtmodeltester.check(model)
