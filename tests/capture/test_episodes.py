from deskscribe.capture.episodes import Point, Span, segment, split_reason
from deskscribe.config import EpisodesConfig

CFG = EpisodesConfig(split_on_app_switch=True, idle_gap_s=60, max_length_s=600, max_frames=5)


def sizes(groups):
    return [len(g) for g in groups]


def test_first_point_starts_an_episode():
    assert split_reason(None, Point(0, "a"), CFG) == "start"


def test_app_switch_splits_only_when_configured():
    pts = [Point(0, "a"), Point(2, "a"), Point(4, "b"), Point(6, "b")]
    assert sizes(segment(pts, CFG)) == [2, 2]
    no_split = EpisodesConfig(split_on_app_switch=False, idle_gap_s=60, max_length_s=600, max_frames=50)
    assert sizes(segment(pts, no_split)) == [4]


def test_unknown_app_does_not_split():
    assert sizes(segment([Point(0, "a"), Point(1, None), Point(2, "a")], CFG)) == [3]


def test_idle_gap_splits_unless_input_bridged_it():
    span = Span(0, 10, "a", 1)
    assert split_reason(span, Point(100, "a"), CFG) == "idle_gap"
    # input 40 s after the last frame: the person was there, the screen just did not change much
    assert split_reason(span, Point(100, "a", activity_ts=50), CFG) is None
    assert split_reason(span, Point(70, "a"), CFG) is None


def test_max_length_and_max_frames():
    assert split_reason(Span(0, 590, "a", 1), Point(601, "a"), CFG) == "max_length"
    pts = [Point(i, "a") for i in range(12)]
    assert sizes(segment(pts, CFG)) == [5, 5, 2]
    # one tick with several monitors counts every frame
    assert split_reason(Span(0, 1, "a", 4), Point(2, "a", frames=2), CFG) == "max_frames"
