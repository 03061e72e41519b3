"""Named, ordered, transactional schema migrations.

Each migration runs once, inside one transaction, and is recorded by name in ``_migrations``.
A database that records a migration this version does not know was written by a newer deskscribe:
it is refused, never modified.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from deskscribe.storage.schema_initial import INITIAL

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one: ``executescript`` would COMMIT the migration's transaction."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending!r}")


def _m001_initial(conn: sqlite3.Connection) -> None:
    _run_script(conn, INITIAL)


def _m002_caption_ocr_boxes(conn: sqlite3.Connection) -> None:
    """Keep the describe stage's full OCR result, so export can check pixels without OCRing them again.

    JSON: {"w": …, "h": …, "engine": "<OCR engine key>", "boxes": [[text, x, y, w, h, score], …]}
    with every box the OCR engine returned, at the stored image's full resolution; NULL for VLM captions and for
    captions written before this migration.
    """
    conn.execute("ALTER TABLE captions ADD COLUMN ocr_boxes TEXT")


def _m003_event_vocabulary(conn: sqlite3.Connection) -> None:
    """Frames say why they were stored; action events link their before/after frames; one details shape.

    Old shapes are rewritten through :func:`deskscribe.storage.events.normalize` (``combo`` → ``keys``,
    ``from``/``to`` → ``from_app``/``to_app``, a list ``special`` → a count per key, ``double`` → ``count: 2``).
    Imported frames get trigger 'import'; older captured frames keep NULL (why they were stored is unknown).
    """
    import json

    from deskscribe.storage import events

    _run_script(
        conn,
        """
        ALTER TABLE frames ADD COLUMN trigger TEXT;
        ALTER TABLE events ADD COLUMN before_frame_id INTEGER REFERENCES frames(id) ON DELETE SET NULL;
        ALTER TABLE events ADD COLUMN after_frame_id INTEGER REFERENCES frames(id) ON DELETE SET NULL;
        ALTER TABLE events ADD COLUMN monitor INTEGER;
        CREATE INDEX events_before ON events(before_frame_id);
        CREATE INDEX events_after ON events(after_frame_id);
        UPDATE frames SET trigger = 'import'
            WHERE episode_id IN (SELECT id FROM episodes WHERE source = 'import');
        """,
    )
    updates = []
    for event_id, kind, raw in conn.execute("SELECT id, kind, details FROM events"):
        try:
            old = json.loads(raw)
        except (TypeError, ValueError):
            old = {}
        new = events.normalize(kind, old)
        if new != old:
            updates.append((json.dumps(new, sort_keys=True), event_id))
    conn.executemany("UPDATE events SET details = ? WHERE id = ?", updates)
    # A pointer event was linked to the frame of the monitor it happened on (capture's link_events).
    conn.execute(
        "UPDATE events SET monitor = (SELECT f.monitor FROM frames f WHERE f.id = events.frame_id)"
        " WHERE kind IN ('click', 'drag', 'scroll') AND frame_id IS NOT NULL"
    )


def _m005_description_review(conn: sqlite3.Connection) -> None:
    """A description's second form and its review flag.

    ``instruction``: the request a person would give an assistant to get the episode's task done (NULL for
    drafts written before this migration and for a person's edit that did not set one).
    ``review_reason``: why a model draft needs a person's look (its answer was unusable, or it named something
    the episode's evidence does not contain, so the stored text was written from the evidence instead); NULL
    when nothing was flagged.
    """
    conn.execute("ALTER TABLE descriptions ADD COLUMN instruction TEXT")
    conn.execute("ALTER TABLE descriptions ADD COLUMN review_reason TEXT")


def _m006_privacy(conn: sqlite3.Connection) -> None:
    """Search rows go with what they index: a deleted frame takes its title (when no frame of the episode
    still has it) and its captions (when no frame of the episode still shows that image); a deleted caption
    or description takes its own row. Before this, only deleting a whole episode cleaned ``search_fts``.

    The WHEN clauses use the indexed tables first, so ``search_fts`` (whose episode_id is unindexed) is
    scanned only when a row really has to go. Rows left behind by earlier versions are removed here.
    """
    _run_script(
        conn,
        """
        CREATE TRIGGER frames_fts_title_delete AFTER DELETE ON frames
        WHEN NOT EXISTS (SELECT 1 FROM frames p WHERE p.episode_id = old.episode_id
                         AND p.app IS old.app AND p.window_title IS old.window_title)
        BEGIN
            DELETE FROM search_fts WHERE kind = 'title' AND episode_id = old.episode_id
              AND text = coalesce(old.app, '') || ' ' || coalesce(old.window_title, '');
        END;
        CREATE TRIGGER frames_fts_caption_delete AFTER DELETE ON frames
        WHEN EXISTS (SELECT 1 FROM captions c WHERE c.image_hash = old.image_hash)
          AND NOT EXISTS (SELECT 1 FROM frames p WHERE p.episode_id = old.episode_id
                          AND p.image_hash = old.image_hash)
        BEGIN
            DELETE FROM search_fts WHERE kind = 'caption' AND episode_id = old.episode_id
              AND text IN (SELECT c.text FROM captions c WHERE c.image_hash = old.image_hash)
              AND NOT EXISTS (SELECT 1 FROM frames p JOIN captions c2 ON c2.image_hash = p.image_hash
                              WHERE p.episode_id = old.episode_id AND c2.text = search_fts.text);
        END;
        CREATE TRIGGER captions_fts_delete AFTER DELETE ON captions BEGIN
            DELETE FROM search_fts WHERE kind = 'caption' AND text = old.text
              AND NOT EXISTS (SELECT 1 FROM frames p JOIN captions c2 ON c2.image_hash = p.image_hash
                              WHERE p.episode_id = search_fts.episode_id AND c2.text = old.text);
        END;
        CREATE TRIGGER descriptions_fts_delete AFTER DELETE ON descriptions BEGIN
            DELETE FROM search_fts WHERE kind = 'description' AND episode_id = old.episode_id
              AND text = old.summary || ' ' || old.steps;
        END;
        DELETE FROM search_fts WHERE NOT EXISTS (SELECT 1 FROM episodes e WHERE e.id = search_fts.episode_id);
        DELETE FROM search_fts WHERE kind = 'title' AND NOT EXISTS (
            SELECT 1 FROM frames f WHERE f.episode_id = search_fts.episode_id
              AND coalesce(f.app, '') || ' ' || coalesce(f.window_title, '') = search_fts.text);
        DELETE FROM search_fts WHERE kind = 'caption' AND NOT EXISTS (
            SELECT 1 FROM frames f JOIN captions c ON c.image_hash = f.image_hash
            WHERE f.episode_id = search_fts.episode_id AND c.text = search_fts.text);
        INSERT INTO search_fts(search_fts) VALUES ('optimize');
        """
    )


def _m007_trajectory_instruction(conn: sqlite3.Connection) -> None:
    """The episode's instruction (the request an assistant would get) with its own revision history.

    Separate from ``descriptions`` so editing the instruction in the review window never creates a
    description revision (and so never turns a model draft into a "person" correction for DPO/KTO).
    """
    _run_script(
        conn,
        """
        CREATE TABLE instructions (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            revision INTEGER NOT NULL,
            author TEXT NOT NULL CHECK (author IN ('model', 'person')),
            parent_revision INTEGER,
            text TEXT NOT NULL,
            is_current INTEGER NOT NULL DEFAULT 0,
            created_ts REAL NOT NULL,
            UNIQUE (episode_id, revision)
        );
        CREATE INDEX instructions_current ON instructions(episode_id, is_current);
        """,
    )


def _m008_region_frames(conn: sqlite3.Connection) -> None:
    """Region frames (storage/patches.py): an image may be the changed part of the screen (``data``) pasted at
    (``x``, ``y``) over a whole image (``base_hash``); NULL for a whole image, which every earlier one is."""
    conn.execute("ALTER TABLE images ADD COLUMN base_hash TEXT")
    conn.execute("ALTER TABLE images ADD COLUMN x INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE images ADD COLUMN y INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX images_base ON images(base_hash) WHERE base_hash IS NOT NULL")


def _m009_action_steps(conn: sqlite3.Connection) -> None:
    """Each description step is a row keyed by the action (event) it stands for, with its author and evidence
    (storage/steps.py). ``descriptions.steps`` stays as the text the search index reads."""
    from deskscribe.storage import actions, steps

    _run_script(
        conn,
        """
        CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            description_id INTEGER NOT NULL REFERENCES descriptions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,
            text TEXT NOT NULL,
            author TEXT NOT NULL,             -- steps | model:<file> | person
            evidence TEXT NOT NULL DEFAULT '{}',
            parent_id INTEGER REFERENCES steps(id) ON DELETE SET NULL,
            created_ts REAL NOT NULL,
            UNIQUE (description_id, position)
        );
        CREATE INDEX steps_event ON steps(event_id);
        CREATE INDEX steps_parent ON steps(parent_id);
        """,
    )
    steps.migrate_json_steps(conn, lambda episode_id: actions.actions_of(conn, episode_id))


def _m010_burst_after_frame(conn: sqlite3.Connection) -> None:
    """A typing burst ended by a click or shortcut shows its text on the screen just before that action; capture
    before this linked the burst's after frame to what the action produced (the Save As dialog). Such a burst
    now ends on its action's before frame, as capture stores it since (capture/around.py)."""
    rows = conn.execute(
        "SELECT e.id, e.episode_id, e.ts, fb.ts, fa.ts FROM events e"
        " JOIN frames fb ON fb.id = e.before_frame_id JOIN frames fa ON fa.id = e.after_frame_id"
        " WHERE e.kind = 'keys' AND json_extract(e.details, '$.ended_by') = 'action'").fetchall()
    for event_id, episode_id, ts, before_ts, after_ts in rows:
        nxt = conn.execute(
            "SELECT f.id, f.ts FROM events n JOIN frames f ON f.id = n.before_frame_id"
            " WHERE n.episode_id = ? AND n.kind NOT IN ('keys', 'text') AND (n.ts > ? OR (n.ts = ? AND n.id > ?))"
            " ORDER BY n.ts, n.id LIMIT 1", (episode_id, ts, ts, event_id)).fetchone()
        if nxt is not None and before_ts < nxt[1] < after_ts:
            conn.execute("UPDATE events SET after_frame_id = ? WHERE id = ?", (nxt[0], event_id))


def _m011_task_mode(conn: sqlite3.Connection) -> None:
    """Task mode (storage/tasks.py): a task the person named, its span (started..finished) is one episode, its
    outcome (done | gave_up; NULL while it runs or when capture stopped first); and timed notes on an episode."""
    _run_script(
        conn,
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER REFERENCES episodes(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT 'person' CHECK (author IN ('person')),
            outcome TEXT CHECK (outcome IN ('done', 'gave_up')),
            started_ts REAL NOT NULL,
            finished_ts REAL
        );
        CREATE INDEX tasks_episode ON tasks(episode_id);
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            ts REAL NOT NULL,
            text TEXT NOT NULL,
            author TEXT NOT NULL DEFAULT 'person'
        );
        CREATE INDEX notes_episode ON notes(episode_id);
        """,
    )


def _m012_description_task(conn: sqlite3.Connection) -> None:
    """A description's task as JSON: ``{"task": the imperative with the texts it needs, "parameters": {name:
    text}, "by": "model:<file>" | "steps" | "person"}`` (NULL for descriptions written before, whose task is
    their summary and instruction)."""
    conn.execute("ALTER TABLE descriptions ADD COLUMN task TEXT")


def _m013_step_flags(conn: sqlite3.Connection) -> None:
    """A step can be flagged ``wrong`` or ``redundant`` by the person (a flag change is a new description
    revision, like a text edit), and an episode trimmed to its first and last kept action, each trim a row
    (the latest is current, the earlier ones its history; NULL: not trimmed on that side). storage/step_review.py"""
    _run_script(
        conn,
        """
        ALTER TABLE steps ADD COLUMN flag TEXT CHECK (flag IN ('wrong', 'redundant'));
        CREATE TABLE episode_trims (
            id INTEGER PRIMARY KEY,
            episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            start_event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,
            end_event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,
            author TEXT NOT NULL DEFAULT 'person',
            created_ts REAL NOT NULL
        );
        CREATE INDEX episode_trims_episode ON episode_trims(episode_id, id);
        """,
    )


MIGRATIONS: list[Migration] = [
    ("001_initial", _m001_initial),
    ("002_caption_ocr_boxes", _m002_caption_ocr_boxes),
    ("003_event_vocabulary", _m003_event_vocabulary),
    ("005_description_review", _m005_description_review),
    ("006_privacy", _m006_privacy),
    ("007_trajectory_instruction", _m007_trajectory_instruction),
    ("008_region_frames", _m008_region_frames),
    ("009_action_steps", _m009_action_steps),
    ("010_burst_after_frame", _m010_burst_after_frame),
    ("011_task_mode", _m011_task_mode),
    ("012_description_task", _m012_description_task),
    ("013_step_flags", _m013_step_flags),
]


def applied(conn: sqlite3.Connection) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_ts REAL NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY name")]


def unknown(conn: sqlite3.Connection) -> list[str]:
    """Migrations recorded in the database that this version of deskscribe does not know."""
    known = {name for name, _ in MIGRATIONS}
    try:
        rows = conn.execute("SELECT name FROM _migrations").fetchall()
    except sqlite3.OperationalError:
        return []
    return sorted(r[0] for r in rows if r[0] not in known)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending migration, each in its own transaction. Returns the names applied."""
    done = set(applied(conn))
    ran = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("COMMIT")
                continue
            fn(conn)
            conn.execute("INSERT INTO _migrations (name, applied_ts) VALUES (?, ?)", (name, time.time()))
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran
