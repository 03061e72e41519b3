"""`deskscribe describe` and `deskscribe show` (registered through models/cli.py)."""

from __future__ import annotations

import json
from typing import Any

import click

from deskscribe import bounds, progress
from deskscribe.errors import DeskscribeError


def _json_progress(done: int, total: int, episode: int | None, message: str) -> None:
    progress.json_line(done=done, total=total, episode=episode, message=message)


class _Bar(progress.Bar):
    """A bar with ETA on stderr; failures are printed above it."""

    def __init__(self) -> None:
        super().__init__("describe")

    def __call__(self, done: int, total: int, episode: int | None, message: str) -> None:
        self.update(done, total, None if episode is None else f"episode {episode}")
        if episode is not None and message.startswith("failed"):
            self.write(f"episode {episode} {message}")


@click.command("describe")
@click.argument("episodes", nargs=-1, type=bounds.ID)
@progress.option("Progress as a bar with ETA on stderr, JSON lines on stdout, or nothing.")
@click.option("--retry-failed", is_flag=True, help="Queue episodes whose description failed before again.")
def describe_cmd(episodes: tuple[int, ...], progress_mode: str, retry_failed: bool) -> None:
    """Caption frames and describe episodes with the configured local models.

    Without EPISODE ids, describes every finished episode the current model and prompt have not described
    yet (a re-run does nothing new). Exits 1 with a one-line summary when some episodes failed.
    """
    from deskscribe import paths
    from deskscribe.config import load as load_config
    from deskscribe.models.describe import run_batch
    from deskscribe.storage import space
    from deskscribe.storage.db import open_user_db as open_db

    cfg = load_config()
    db = open_db()
    try:
        space.require_free(paths.user_dir(), "describe")
    except BaseException:
        db.conn.close()
        raise
    bar = _Bar() if progress_mode == "bar" else None
    report = bar if bar else (_json_progress if progress_mode == "json" else None)
    try:
        result = run_batch(db, cfg, list(episodes) or None, retry_failed=retry_failed, progress=report)
    finally:
        if bar:
            bar.close()
        db.conn.close()
    line = result.summary_line()
    if result.failed:
        raise click.ClickException(line)
    if progress_mode != "json":
        click.echo(line)


def episode_report(db: Any, episode_id: int) -> dict[str, Any]:
    """Everything `show` prints: the episode, frames with captions and events, the description and provenance."""
    from deskscribe.storage import descriptions as store
    from deskscribe.storage import events as vocab
    from deskscribe.storage import jobs
    from deskscribe.storage.actions import episode_actions
    from deskscribe.storage.frames import episode_events, episode_frames, get_episode

    ep = get_episode(db, episode_id)
    if ep is None:
        raise DeskscribeError(f"no episode {episode_id}: `deskscribe status` lists what is there")
    events: dict[int | None, list[dict[str, Any]]] = {}
    for ev in episode_events(db, episode_id):
        events.setdefault(ev.pop("frame_id"), []).append(ev)
    frames = []
    for row in episode_frames(db, episode_id):
        cap = store.latest_caption(db, row["image_hash"])
        frames.append({**row, "caption": cap["text"] if cap else None, "ocr_text": cap["ocr_text"] if cap else None,
                       "events": events.get(row["id"], [])})
    desc = store.current_description(db, episode_id)
    if desc and desc.get("model_run_id"):
        desc["model_run"] = store.get_model_run(db, desc["model_run_id"])
    if desc:
        desc["task_by"] = task_author(desc)
    actions = [{"event_id": a.event_id, "kind": a.kind, "ts": a.ts, "before_frame_id": a.before,
                "after_frame_id": a.after, "action": vocab.describe(a.event)} for a in episode_actions(db, episode_id)]
    history = [{k: d[k] for k in ("revision", "author", "model", "prompt_version", "created_ts", "is_current")}
               for d in store.description_history(db, episode_id)]
    job_rows = [{"state": j.state, "attempts": j.attempts, "error": j.error, "run_key": j.run_key}
                for j in jobs.jobs_for(db, "describe", episode_id)]
    return {"episode": ep, "frames": frames, "actions": actions, "description": desc, "history": history,
            "jobs": job_rows}


def task_author(desc: dict[str, Any]) -> str:
    """Who wrote the task (summary and instruction): "you", "the steps" (describe.compose wrote it from them, or
    the model's answer failed the check) or the model's file name."""
    if desc["author"] == "person":
        return "you"
    by = str((desc.get("task") or {}).get("by") or "")
    if by:  # stored with the task since migration 011: "steps" or "model:<file>"
        return "the steps" if by == "steps" else by.removeprefix("model:")
    run = desc.get("model_run") or {}
    if desc.get("review_reason") or (run.get("params") or {}).get("compose") == "evidence" or not run:
        return "the steps"
    return str(run.get("model") or "a model")


def _task_phrase(by: str) -> str:
    return "task written from the steps" if by == "the steps" else f"task written by {by}"


def _reflection_line(evidence: dict[str, Any]) -> str:
    """A VLM's reflection on a step, as `show` prints it under the step ("" when there is none)."""
    r = evidence.get("reflection")
    if not r:
        return ""
    if "rejected" in r:
        return f"     reflection by {r['by']} rejected: {r['rejected']}\n"
    verdict = "looks right" if r.get("looks_right") else "does NOT look right"
    return f"     reflection by {r['by']}: {r['changed']} ({verdict})\n"


def _print_report(rep: dict[str, Any]) -> None:
    ep = rep["episode"]
    click.echo(f"episode {ep['id']}  status {ep['status']}  apps {', '.join(ep['apps']) or '-'}  "
               f"source {ep['source']}{' ' + ep['source_ref'] if ep['source_ref'] else ''}")
    click.echo(f"{len(rep['frames'])} frames")
    for f in rep["frames"]:
        where = " — ".join(p for p in (f["app"], f["window_title"]) if p)
        click.echo(f"  frame {f['id']} {f['name'] or ''} {where}".rstrip())
        click.echo(f"    caption: {f['caption'] or '(not captioned yet)'}")
        for ev in f["events"]:
            click.echo(f"    event: {ev['kind']} {json.dumps(ev['details'], ensure_ascii=False)}")
    desc = rep["description"]
    if not desc:
        click.echo("no description yet: run `deskscribe describe`")
    else:
        click.echo(f"description (revision {desc['revision']}, {_task_phrase(desc['task_by'])}):")
        click.echo(f"  {desc['summary']}")
        if desc.get("task"):
            params = desc["task"].get("parameters") or {}
            click.echo(f"  task: {desc['task']['task']}" + (f"  {json.dumps(params, ensure_ascii=False)}" if params
                                                           else ""))
        acts = {a["event_id"]: a for a in rep["actions"]}
        for i, step in enumerate(desc["step_rows"], 1):
            act = acts.get(step["event_id"])
            click.echo(f"  {i}. {step['text']}" + (f"   [{act['action']}; step by {step['author']}]" if act else ""))
            click.echo(_reflection_line(step.get("evidence") or {}), nl=False)
        run = desc.get("model_run")
        if run:
            click.echo(f"  model: {run['model']} ({run['backend']}, sha256 {str(run['model_sha256'])[:12]}), "
                       f"prompt {run['prompt_version']}, params {json.dumps(run['params'], sort_keys=True)}")
    for job in rep["jobs"]:
        if job["state"] == "failed":
            click.echo(f"failed describe job ({job['attempts']} attempts): {job['error']}")


@click.command("show")
@click.argument("episode", type=bounds.ID)
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def show_cmd(episode: int, as_json: bool) -> None:
    """Print an episode: frames with captions and events, its current description and where it came from."""
    from deskscribe.storage.db import open_user_db as open_db

    db = open_db(readonly=True)
    try:
        rep = episode_report(db, episode)
    finally:
        db.conn.close()
    if as_json:
        click.echo(json.dumps(rep, ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(rep)


commands: list[click.Command] = [describe_cmd, show_cmd]
