"""The describe pipeline end to end: real RapidOCR + real llama.cpp on SmolLM2, provenance, jobs, failures."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont

from deskscribe.capture.importer import import_folder
from deskscribe.cli import main
from deskscribe.config import Config
from deskscribe.errors import ModelError
from deskscribe.models import describe as pipeline
from deskscribe.models import prompt
from deskscribe.models.ocr import OcrCaptioner
from deskscribe.storage import descriptions as store
from deskscribe.storage import jobs
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode

SHORT_EPISODE = "5fe99045cd214b898c99fce84ff4906b"  # 5 frames


def _png(text: str) -> EncodedImage:
    img = Image.new("RGB", (480, 120), "white")
    ImageDraw.Draw(img).text((20, 40), text, fill="black", font=ImageFont.load_default(size=28))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return EncodedImage(buf.getvalue(), "png", 480, 120)


def _synthetic_episode(db, words: list[str], ts: float = 1000.0) -> int:
    ep = create_episode(db, ts)
    for i, word in enumerate(words):
        events = [EventIn(ts + i, "click", {"button": "left"})] if i == 0 else []
        add_frame(db, ep, FrameIn(ts=ts + i, image=_png(word), app="gedit", window_title="notes.txt - gedit",
                                  events=events))
    close_episode(db, ep)
    return ep


class GarbageTextModel:
    """Test double of models.base.TextModel that answers garbage for the first ``bad`` calls, then valid JSON."""

    def __init__(self, bad: int, did: str = "Edited notes.txt in gedit.", cut: bool = False) -> None:
        from deskscribe.models.base import ModelInfo

        self.info = ModelInfo(backend="test", model="garbage", params={"n_ctx": 2048})
        self.bad, self.did, self.cut = bad, did, cut
        self.parameters = {"file": "notes.txt"}
        self.calls = 0
        self.closed = False
        self.last_usage: dict[str, int] = {}

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.last_usage = {"completion_tokens": max_tokens if self.cut else 20}
        if self.cut:
            return '{"did": "Clicked and clicked and clicked and clicked'  # stopped at max_tokens
        if self.calls <= self.bad:
            return "the the the the the the the the" if self.calls % 2 else "{not json"
        return json.dumps({"task": "Edit notes.txt in gedit.", "parameters": self.parameters, "did": self.did,
                           "instruction": "Edit the notes in gedit."})

    def close(self) -> None:
        self.closed = True


@pytest.mark.model
def test_real_description_with_provenance_rerun_noop_and_new_prompt_draft(db, screenagent, smollm2_path, monkeypatch):
    ep = import_folder(db, screenagent / SHORT_EPISODE, keep_typed_text=True).episode_id
    cfg = Config()
    cfg.describe.compose = "model"  # the bundled model writes (by default, "auto", the steps would)
    first = pipeline.run_batch(db, cfg)
    assert (first.total, first.done, first.failed) == (1, [ep], {})
    desc = store.current_description(db, ep)
    assert desc["author"] == "model" and desc["summary"].strip() and desc["steps"]
    run = store.get_model_run(db, desc["model_run_id"])
    assert run["model"] == smollm2_path.name and run["backend"] == "llama_cpp"
    assert len(run["model_sha256"]) == 64 and run["prompt_version"] == prompt.PROMPT_VERSION
    assert run["params"]["repeat_penalty"] > 1 and run["params"]["compose"] == "model"
    n_frames = db.conn.execute("SELECT count(*) FROM frames WHERE episode_id = ?", [ep]).fetchone()[0]
    assert first.timers.captions + first.timers.cache_hits == n_frames
    assert db.conn.execute("SELECT count(*) FROM captions").fetchone()[0] == first.timers.captions

    again = pipeline.run_batch(db, cfg)  # same model + prompt: nothing to do, nothing loaded twice
    assert again.total == 0 and again.timers.llm_calls == 0
    assert len(store.description_history(db, ep)) == 1

    monkeypatch.setattr(prompt, "PROMPT_VERSION", "describe-test-v2")
    third = pipeline.run_batch(db, cfg)
    history = store.description_history(db, ep)
    assert third.done == [ep] and [d["revision"] for d in history] == [1, 2]
    assert history[1]["prompt_version"] == "describe-test-v2" and history[1]["is_current"]
    assert third.timers.captions == 0  # every frame came from the caption cache


def test_a_bad_answer_is_retried_once_then_the_task_comes_from_the_steps_flagged(db):
    bad = _synthetic_episode(db, ["Hello", "World"], ts=1000)
    good = _synthetic_episode(db, ["Notes"], ts=2000)
    model = GarbageTextModel(bad=2)
    res = pipeline.run_batch(db, Config(), text=model, captioner=OcrCaptioner())
    assert model.calls == 3  # garbage twice for the first episode, then a good answer for the second
    assert sorted(res.done) == [bad, good] and not res.failed  # every episode gets a description
    fallback = store.current_description(db, bad)
    assert "not JSON" in fallback["review_reason"] or "repeats itself" in fallback["review_reason"]
    assert fallback["summary"] == "Used the text editor." and fallback["instruction"] == "Use the text editor."
    assert fallback["steps"] and fallback["summary"] != "the the the the the the the the"
    answered = store.current_description(db, good)
    assert answered["summary"] == "Edited notes.txt in gedit." and answered["review_reason"] is None
    assert answered["instruction"] == "Edit the notes in gedit."
    assert answered["task"] == {"task": "Edit notes.txt in gedit.", "parameters": {"file": "notes.txt"},
                                "by": "model:garbage"}
    assert fallback["task"] == {"task": fallback["instruction"], "parameters": {}, "by": "steps"}
    assert not model.closed  # models passed in belong to the caller


def test_a_parameter_the_evidence_lacks_rejects_the_answer(db):
    ep = _synthetic_episode(db, ["Notes"])
    model = GarbageTextModel(bad=0)
    model.parameters = {"file": "notes.txt", "to": "dana@example.org"}
    pipeline.run_batch(db, Config(), text=model, captioner=OcrCaptioner())
    desc = store.current_description(db, ep)
    assert "dana@example.org" in desc["review_reason"] and desc["task"]["by"] == "steps"


def test_an_answer_naming_what_did_not_happen_is_flagged_without_asking_again(db):
    ep = _synthetic_episode(db, ["Invoice"])
    model = GarbageTextModel(bad=0, did="Saved report.pdf in Lisbon with 20,000 euros.")
    res = pipeline.run_batch(db, Config(), text=model, captioner=OcrCaptioner())
    assert res.done == [ep] and model.calls == 1  # a rejected answer is not asked again (RETRY_UNFOUNDED)
    desc = store.current_description(db, ep)
    assert "does not show" in desc["review_reason"] and "report.pdf" in desc["review_reason"]
    assert "report.pdf" not in desc["summary"] and "Lisbon" not in desc["summary"]


def test_an_answer_cut_off_at_max_tokens_is_flagged_without_asking_again(db):
    ep = _synthetic_episode(db, ["Invoice"])
    model = GarbageTextModel(bad=0, cut=True)
    res = pipeline.run_batch(db, Config(), text=model, captioner=OcrCaptioner())
    assert res.done == [ep] and model.calls == 1
    desc = store.current_description(db, ep)
    assert f"ran past {pipeline.MAX_TOKENS} tokens" in desc["review_reason"]
    assert desc["summary"] == "Used the text editor." and desc["steps"]


def test_compose_evidence_writes_the_task_from_the_steps_without_the_model(db):
    ep = _synthetic_episode(db, ["Invoice"])
    cfg = Config()
    cfg.describe.compose = "evidence"
    model = GarbageTextModel(bad=0)
    res = pipeline.run_batch(db, cfg, text=model, captioner=OcrCaptioner())
    assert res.done == [ep] and model.calls == 0 and res.timers.llm_calls == 0
    desc = store.current_description(db, ep)
    assert desc["review_reason"] is None and desc["summary"] == "Used the text editor." and desc["steps"]
    run = store.get_model_run(db, desc["model_run_id"])
    assert run["params"]["compose"] == "evidence"


@pytest.mark.model
def test_compose_auto_lets_a_chosen_model_write_but_not_the_bundled_one(db, smollm2_path, tmp_path):
    from deskscribe.models.llama_text import LlamaCppTextModel

    ep = _synthetic_episode(db, ["Invoice"])
    cfg = Config()
    assert cfg.describe.compose == "auto"
    res = pipeline.run_batch(db, cfg)  # the offline defaults: OCR + the bundled SmolLM2-135M
    assert res.done == [ep] and res.timers.llm_calls == 0
    run = store.get_model_run(db, store.current_description(db, ep)["model_run_id"])
    assert run["model"] == smollm2_path.name and run["params"]["compose"] == "evidence"

    chosen = tmp_path / "my-summarizer.gguf"  # the same weights under another name: still 135 M parameters
    chosen.symlink_to(smollm2_path)
    with LlamaCppTextModel(chosen, cfg.models) as text:
        cap = pipeline.caption_run(OcrCaptioner())
        assert 0.13 < (text.info.abilities.params_b or 0) < 0.14  # counted from the GGUF's tensors
        assert pipeline.resolve_compose("auto", text, cap) == "evidence"
        assert pipeline.resolve_compose("model", text, cap) == "model"
    assert pipeline.resolve_compose("auto", GarbageTextModel(0), cap) == "model"  # not llama.cpp: a server's
    vlm_run = pipeline.store.ModelRun("caption", "llama_cpp", "tiny-vlm.gguf", "", "v1", {"mmproj": "x.gguf"})
    with LlamaCppTextModel(smollm2_path, cfg.models) as bundled:
        assert pipeline.resolve_compose("auto", bundled, cap) == "evidence"
        assert pipeline.resolve_compose("auto", bundled, vlm_run) == "model"  # a VLM looking at the frames writes


def test_crash_mid_batch_resumes_and_describes_each_episode_once(db):
    eps = [_synthetic_episode(db, [w], ts=1000 * (i + 1)) for i, w in enumerate(["Alpha", "Beta", "Gamma"])]
    model = GarbageTextModel(bad=0)
    describer = pipeline.Describer(db, Config(), model, OcrCaptioner())
    jobs.enqueue(db, "describe", eps, describer.run.key)
    jobs.done(db, jobs.claim(db, "describe", describer.run.key).id)  # episode 1 was finished…
    store.add_description(db, eps[0], "Done before the crash.", [], author="model", model_run_id=describer.run_id)
    jobs.claim(db, "describe", describer.run.key)  # …episode 2 was running when the process died
    res = pipeline.run_batch(db, Config(), text=model, captioner=OcrCaptioner())
    assert sorted(res.done) == eps[1:] and not res.failed
    for ep in eps:
        assert len(store.description_history(db, ep)) == 1
    assert jobs.counts(db, "describe", describer.run.key) == {"queued": 0, "running": 0, "done": 3, "failed": 0}


def test_caption_cache_survives_a_new_describe_run(db):
    ep = _synthetic_episode(db, ["Invoice", "Invoice"])
    res = pipeline.run_batch(db, Config(), text=GarbageTextModel(bad=0), captioner=OcrCaptioner())
    assert res.done == [ep] and res.timers.captions == 1 and res.timers.cache_hits == 1


def test_bad_model_file_is_one_clear_error_and_nothing_stored(db, deskscribe_home, tmp_path):
    _synthetic_episode(db, ["Hello"])
    fake = tmp_path / "fake.gguf"
    fake.write_text("this is not a model\n")
    with pytest.raises(ModelError):
        cfg = Config()
        cfg.models.summarizer = str(fake)
        pipeline.run_batch(db, cfg)
    (deskscribe_home / "config.toml").write_text(f'[models]\nsummarizer = "{fake}"\n')
    result = CliRunner().invoke(main, ["describe", "--progress", "none"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "fake.gguf" in lines[0], result.output
    assert db.conn.execute("SELECT count(*) FROM descriptions").fetchone()[0] == 0


@pytest.mark.model
def test_cli_describe_json_progress_then_show(db, screenagent, smollm2_path):
    ep = import_folder(db, screenagent / SHORT_EPISODE).episode_id
    db.conn.close()
    runner = CliRunner()
    result = runner.invoke(main, ["describe", "--progress", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert lines[0] == {"done": 0, "total": 1, "episode": None, "message": "1 episodes to describe"}
    assert lines[-1] == {"done": 1, "total": 1, "episode": ep, "message": "described"}

    shown = runner.invoke(main, ["show", str(ep)])
    assert shown.exit_code == 0, shown.output
    # the bundled SmolLM2 leaves the task to the steps (describe.compose = "auto"): show says so
    assert "caption: " in shown.output and "description (revision 1, task written from the steps)" in shown.output
    assert smollm2_path.name in shown.output
    as_json = json.loads(runner.invoke(main, ["show", str(ep), "--json"]).stdout)
    assert as_json["description"]["model_run"]["prompt_version"] == prompt.PROMPT_VERSION
    assert all(f["caption"] for f in as_json["frames"])
    missing = runner.invoke(main, ["show", "999"])
    assert missing.exit_code == 1 and "no episode 999" in missing.output
    assert runner.invoke(main, ["describe", "--progress", "none"]).output.strip() == "nothing to describe"


def test_failed_episode_makes_cli_exit_1_with_summary(db, monkeypatch):
    _synthetic_episode(db, ["Hello"])
    class BrokenBackend(GarbageTextModel):  # test double: a backend that fails mid-batch (a server gone)
        def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
            raise ModelError("the model server at http://127.0.0.1:9 stopped answering")

    monkeypatch.setattr(pipeline, "open_text", lambda cfg: BrokenBackend(bad=0))
    db.conn.close()
    result = CliRunner().invoke(main, ["describe", "--progress", "none"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: described 0 of 1 episodes; 1 failed")


def test_second_batch_is_refused_while_one_runs(db):
    with pipeline.batch_lock(db):
        with pytest.raises(pipeline.BatchBusy):
            pipeline.run_batch(db, Config(), text=GarbageTextModel(0), captioner=OcrCaptioner())


def test_idle_decision_and_scheduler_glue(db):
    from deskscribe.config import DescribeConfig
    from deskscribe.models import idle

    on = DescribeConfig(idle_processing=True, idle_after_s=300)
    assert idle.should_run(1000, 600, backlog=2, cfg=on)
    assert not idle.should_run(1000, 800, backlog=2, cfg=on)  # active 200 s ago
    assert not idle.should_run(1000, 0, backlog=0, cfg=on)  # nothing to do
    assert not idle.should_run(1000, 0, backlog=2, cfg=DescribeConfig(idle_processing=False))
    assert idle.should_run(1000, None, backlog=1, cfg=on)

    _synthetic_episode(db, ["Hello"], ts=1000)  # last activity at 1001 (its click)
    ran = []
    assert not idle.check_once(on, run=lambda: ran.append(1), now=lambda: 1200.0)
    assert idle.check_once(on, run=lambda: ran.append(1), now=lambda: 1400.0)
    assert ran == [1]

    assert idle.start_idle_runner(DescribeConfig(idle_processing=False)) is None
    sched = idle.start_idle_runner(on, run=lambda: None, every_s=3600)
    try:
        job = sched.get_job("deskscribe-idle-describe")
        assert job is not None and job.max_instances == 1
    finally:
        sched.shutdown(wait=False)


def test_the_click_is_ringed_and_cropped_for_a_vlm():
    from deskscribe.models.marks import mark_point

    frame = _png("File Edit").data
    marked, crop = mark_point(frame, 40, 60, radius=10, crop=64)
    full, close = Image.open(io.BytesIO(marked)), Image.open(io.BytesIO(crop))
    assert full.size == (480, 120) and close.size == (64, 64)
    assert full.getpixel((50, 60)) == (255, 0, 64)  # the ring passes 10 px right of the point
    assert Image.open(io.BytesIO(frame)).convert("RGB").getpixel((50, 60)) != (255, 0, 64)
    _, edge = mark_point(frame, 479, 0, crop=64)  # near a corner: the crop stays inside the frame
    assert Image.open(io.BytesIO(edge)).size == (64, 64)


class RecordingVLM:
    """Wraps the real tiny VLM (random weights) to record what the describe task prompt sends it."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.info, self.prompts = inner, inner.info, []

    def caption(self, image, *, app=None, title=None):  # type: ignore[no-untyped-def]
        return self.inner.caption(image, app=app, title=title)

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        self.prompts.append(messages)
        return self.inner.complete(messages, schema=schema, max_tokens=max_tokens)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.model
def test_with_a_vlm_the_task_prompt_gets_the_marked_frames(db, tiny_vlm):
    from deskscribe.config import ModelsConfig
    from deskscribe.models.vlm import open_vlm_captioner

    ep = create_episode(db, 1000.0)
    add_frame(db, ep, FrameIn(ts=1000.0, image=_png("File Edit"), app="gedit", window_title="notes.txt - gedit"))
    add_frame(db, ep, FrameIn(ts=1001.0, image=_png("File New Open"), app="gedit", window_title="notes.txt - gedit",
                              events=[EventIn(1000.5, "click", {"button": "left", "x": 30, "y": 50})]))
    close_episode(db, ep)
    model, mmproj = tiny_vlm
    cfg = Config()
    cfg.models = ModelsConfig(captioner="vlm", vlm_model=str(model), vlm_mmproj=str(mmproj), n_ctx=2048)
    vlm = RecordingVLM(open_vlm_captioner(cfg.models))
    text = GarbageTextModel(bad=0)
    try:
        res = pipeline.run_batch(db, cfg, text=text, captioner=vlm)
    finally:
        vlm.close()
    assert res.done == [ep] and not res.failed and text.calls == 0  # the VLM, not the text model, wrote it
    parts = vlm.prompts[0][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 3 + ["text"]  # ringed frame, close-up, last frame
    assert "circled in red" in parts[-1]["text"] and "Steps:" in parts[-1]["text"]
    desc = store.current_description(db, ep)  # random weights answer noise: flagged, written from the steps
    assert desc["summary"] and desc["steps"] and (desc["review_reason"] or desc["instruction"])
    run = store.get_model_run(db, desc["model_run_id"])
    assert run["params"]["task_by"] == "vlm"
