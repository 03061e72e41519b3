"""Fillers for benchmarks and scale tests: look-alike data written straight into a deskscribe database.

Not part of the app (the installed package never imports it); tests reach it through pytest's
``pythonpath = ["bench"]``, bench scripts because they run from this folder.
"""

from __future__ import annotations

import io
import json

import sqlite_utils
from PIL import Image

from deskscribe.storage.db import transaction
from deskscribe.storage.frames import EncodedImage, put_image
from deskscribe.storage.review import STATUSES


def fill_synthetic(db: sqlite_utils.Database, episodes: int, frames_per_episode: int, image: bytes,
                   start_ts: float = 1_700_000_000.0) -> None:
    """Bulk-fill a database with look-alike episodes for benchmarks and scale tests (one shared image).

    Episode ``i`` (1-based) starts at ``start_ts + i * 600`` and uses app ``app{i % 7}``; every 10th episode
    gets a model description "synthetic episode i".
    """
    with Image.open(io.BytesIO(image)) as img:
        width, height = img.size
        fmt = (img.format or "png").lower()
    with transaction(db) as conn:
        digest = put_image(db, EncodedImage(image, fmt, width, height))
        base = int(conn.execute("SELECT coalesce(max(id), 0) FROM episodes").fetchone()[0])
        ep_rows, frame_rows = [], []
        for i in range(base + 1, base + episodes + 1):
            t0 = start_ts + i * 600.0
            app = f"app{i % 7}"
            status = STATUSES[i % 4] if i % 3 == 0 else "unreviewed"
            ep_rows.append((i, t0, t0 + frames_per_episode * 2.0, json.dumps([app]), status, t0))
            frame_rows.extend(
                (i, t0 + k * 2.0, width, height, app, f"window {i}", digest) for k in range(frames_per_episode)
            )
        conn.executemany(
            "INSERT INTO episodes (id, start_ts, end_ts, closed, apps, status, created_ts)"
            " VALUES (?, ?, ?, 1, ?, ?, ?)", ep_rows)
        conn.executemany(
            "INSERT INTO frames (episode_id, ts, width, height, app, window_title, image_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", frame_rows)
        conn.executemany(
            "INSERT INTO descriptions (episode_id, revision, author, summary, steps, is_current, created_ts)"
            " VALUES (?, 1, 'model', ?, '[]', 1, ?)",
            [(r[0], f"synthetic episode {r[0]}", r[1]) for r in ep_rows if r[0] % 10 == 0])
