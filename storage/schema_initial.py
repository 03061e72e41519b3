"""The first schema (migration 001_initial), as it was released: later migrations change it, never this text."""

INITIAL = """
CREATE TABLE images (
    hash TEXT PRIMARY KEY,            -- sha256 of the encoded bytes
    data BLOB NOT NULL,
    format TEXT NOT NULL,             -- jpeg | webp | png
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    start_ts REAL NOT NULL,
    end_ts REAL,
    closed INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'capture',   -- capture | import
    source_ref TEXT,                          -- the imported folder, for imports
    apps TEXT NOT NULL DEFAULT '[]',          -- JSON list, in order of first use
    status TEXT NOT NULL DEFAULT 'unreviewed'
        CHECK (status IN ('unreviewed', 'accepted', 'rejected', 'edited')),
    created_ts REAL NOT NULL
);
CREATE INDEX episodes_start ON episodes(start_ts);
CREATE INDEX episodes_status ON episodes(status, start_ts);
CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    ts REAL NOT NULL,
    monitor INTEGER NOT NULL DEFAULT 0,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    app TEXT,
    window_title TEXT,
    image_hash TEXT NOT NULL REFERENCES images(hash),
    change_hash TEXT,
    name TEXT                                  -- original file name, for imports
);
CREATE INDEX frames_episode ON frames(episode_id, ts);
CREATE INDEX frames_ts ON frames(ts);
CREATE INDEX frames_image ON frames(image_hash);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER REFERENCES episodes(id) ON DELETE CASCADE,
    frame_id INTEGER REFERENCES frames(id) ON DELETE CASCADE,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,       -- click | scroll | keys | shortcut | text | app_switch
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_frame ON events(frame_id);
CREATE INDEX events_episode ON events(episode_id, ts);
CREATE TABLE model_runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,  -- hash of everything below: same key = same outputs expected
    kind TEXT NOT NULL,        -- caption | describe | judge | rephrase
    backend TEXT NOT NULL,     -- llama_cpp | openai | ocr
    model TEXT NOT NULL,       -- file name or server model id
    model_sha256 TEXT,
    prompt_version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    created_ts REAL NOT NULL
);
CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
    image_hash TEXT NOT NULL REFERENCES images(hash) ON DELETE CASCADE,
    model_run_id INTEGER NOT NULL REFERENCES model_runs(id),
    text TEXT NOT NULL,
    ocr_text TEXT,
    created_ts REAL NOT NULL,
    UNIQUE (image_hash, model_run_id)
);
CREATE TABLE descriptions (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    author TEXT NOT NULL CHECK (author IN ('model', 'person')),
    model_run_id INTEGER REFERENCES model_runs(id),
    parent_revision INTEGER,   -- the revision this one was edited from or reverts to
    summary TEXT NOT NULL,
    steps TEXT NOT NULL DEFAULT '[]',
    is_current INTEGER NOT NULL DEFAULT 0,
    created_ts REAL NOT NULL,
    UNIQUE (episode_id, revision)
);
CREATE INDEX descriptions_current ON descriptions(episode_id, is_current);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- describe
    target INTEGER NOT NULL,       -- episode id
    run_key TEXT NOT NULL,         -- model configuration the job is for
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    UNIQUE (kind, target, run_key)
);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT,
    updated_ts REAL NOT NULL
);

-- Full-text search over what a person would search for: titles, captions, descriptions.
CREATE VIRTUAL TABLE search_fts USING fts5(text, episode_id UNINDEXED, kind UNINDEXED);
CREATE TRIGGER frames_fts AFTER INSERT ON frames
WHEN NOT EXISTS (
    SELECT 1 FROM frames p WHERE p.episode_id = new.episode_id AND p.id < new.id
      AND p.app IS new.app AND p.window_title IS new.window_title)
BEGIN
    INSERT INTO search_fts(text, episode_id, kind)
    VALUES (coalesce(new.app, '') || ' ' || coalesce(new.window_title, ''), new.episode_id, 'title');
END;
CREATE TRIGGER captions_fts AFTER INSERT ON captions BEGIN
    INSERT INTO search_fts(text, episode_id, kind)
    SELECT new.text, e, 'caption' FROM (SELECT DISTINCT episode_id AS e FROM frames
                                        WHERE image_hash = new.image_hash);
END;
CREATE TRIGGER descriptions_fts AFTER INSERT ON descriptions BEGIN
    INSERT INTO search_fts(text, episode_id, kind)
    VALUES (new.summary || ' ' || new.steps, new.episode_id, 'description');
END;
CREATE TRIGGER episodes_fts_delete AFTER DELETE ON episodes BEGIN
    DELETE FROM search_fts WHERE episode_id = old.id;
END;
"""
