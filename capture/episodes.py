"""Cutting the stream of frames into episodes (pure functions; the writer applies them online).

A new episode starts on an app switch (``episodes.split_on_app_switch``), after an idle gap longer than
``episodes.idle_gap_s`` (no stored frame and no input in between), or when the current one would exceed
``episodes.max_length_s`` or ``episodes.max_frames``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deskscribe.config import EpisodesConfig


@dataclass(frozen=True)
class Point:
    """One capture moment: when, which app had focus, how many frames it stored, first input before it."""

    ts: float
    app: str | None
    frames: int = 1
    activity_ts: float | None = None  # earliest input since the previous point (None = none)


@dataclass
class Span:
    """The open episode as the segmenter sees it."""

    start_ts: float
    last_ts: float
    app: str | None
    frames: int


def split_reason(span: Span | None, point: Point, cfg: EpisodesConfig) -> str | None:
    """Why ``point`` must start a new episode ('start', 'app_switch', 'idle_gap', 'max_length', 'max_frames').

    None means it continues ``span``.
    """
    if span is None:
        return "start"
    if cfg.split_on_app_switch and point.app is not None and span.app is not None and point.app != span.app:
        return "app_switch"
    resumed = point.ts if point.activity_ts is None else min(point.ts, point.activity_ts)
    if resumed - span.last_ts > cfg.idle_gap_s:
        return "idle_gap"
    if point.ts - span.start_ts > cfg.max_length_s:
        return "max_length"
    if span.frames + point.frames > cfg.max_frames:
        return "max_frames"
    return None


def advance(span: Span | None, point: Point, cfg: EpisodesConfig) -> tuple[Span, str | None]:
    """The span after ``point`` and the reason a new one began (None = same episode)."""
    reason = split_reason(span, point, cfg)
    if reason is not None or span is None:
        return Span(point.ts, point.ts, point.app, point.frames), reason
    app = span.app if point.app is None else point.app
    return Span(span.start_ts, max(span.last_ts, point.ts), app, span.frames + point.frames), None


def segment(points: Iterable[Point], cfg: EpisodesConfig) -> list[list[Point]]:
    """Group a whole stream at once (what the writer does one point at a time)."""
    groups: list[list[Point]] = []
    span: Span | None = None
    for point in points:
        span, reason = advance(span, point, cfg)
        if reason is not None:
            groups.append([])
        groups[-1].append(point)
    return groups
