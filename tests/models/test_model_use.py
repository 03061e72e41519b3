"""The model where it helps: who writes the task (the ≥ 1 B rule), the task as JSON, the image token cap, and the
VLM reflector — run against real llama.cpp (SmolLM2 for text, the tiny random-weight LLaVA-style VLM of
tests/models/conftest.py for images), on an imported dev-set episode, through the CLI."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from deskscribe.cli import main
from deskscribe.models import marks, reflect, vlm
from deskscribe.models.abilities import MIN_TASK_PARAMS_B, of_gguf, writes_tasks
from deskscribe.models.base import Abilities, ModelInfo
from deskscribe.models.gguf_file import GGUFSummary, read_gguf

SHORT_EPISODE = "5fe99045cd214b898c99fce84ff4906b"


def _summary(n_params: int, **metadata: object) -> GGUFSummary:
    return GGUFSummary(Path("x.gguf"), 0, 3, dict(metadata), 0, n_params)


def test_the_task_writer_rule_is_a_function_of_what_the_model_declares():
    # Tested as a pure function of the GGUF's counted parameters (a GGUF with 1 B real parameters is 0.5-2 GB,
    # and the reader counts the tensors, so a tiny file cannot declare more); the real SmolLM2 is read below.
    big = of_gguf(_summary(1_720_000_000), "qwen3-1.7b")
    assert big.params_b == pytest.approx(1.72) and big.json_output and not big.vision
    assert writes_tasks(ModelInfo("llama_cpp", "q.gguf", abilities=big))
    small = of_gguf(_summary(134_515_008))
    assert not writes_tasks(ModelInfo("llama_cpp", "s.gguf", abilities=small))
    edge = Abilities(params_b=MIN_TASK_PARAMS_B)
    assert writes_tasks(ModelInfo("llama_cpp", "e.gguf", abilities=edge))
    assert writes_tasks(ModelInfo("llama_cpp", "v.gguf", abilities=Abilities(vision=True, params_b=0.001)))
    assert writes_tasks(ModelInfo("openai", "served", abilities=Abilities()))  # a server counts as capable
    assert not writes_tasks(ModelInfo("openai", "served", abilities=Abilities(json_output=False)))


@pytest.mark.model
def test_the_bundled_model_counts_135m_and_the_tiny_vlm_declares_vision(smollm2_path, tiny_vlm):
    from deskscribe.config import ModelsConfig

    assert read_gguf(smollm2_path).n_params == 134_515_008
    model, mmproj = tiny_vlm
    with vlm.VLMCaptioner(model, mmproj, ModelsConfig(n_ctx=1024)) as v:
        assert v.info.abilities.vision and v.info.abilities.params_b is not None
        assert v.unit == 8 and v.info.params["image_token_px"] == 8  # LLaVA: one token per 8 px patch


def test_images_are_fitted_to_the_token_cap_by_the_patch_rule():
    buf = io.BytesIO()
    Image.new("RGB", (1920, 1080), "white").save(buf, "PNG")
    frame = buf.getvalue()
    unit = marks.token_unit(16, 2)  # Qwen3-VL: 16 px patches merged 2×2
    assert unit == 32 and marks.image_tokens(1920, 1080, unit) == 60 * 34  # ~2,000 tokens uncapped
    fitted = Image.open(io.BytesIO(marks.fit_to_tokens(frame, 1024, unit)))
    assert fitted.size == (1344, 768) and marks.image_tokens(*fitted.size, unit) == 42 * 24
    assert marks.fit_to_tokens(frame, 0, unit) is frame  # 0: no cap
    assert marks.fit_to_tokens(frame, 4096, unit) is frame  # already fits
    tall = Image.open(io.BytesIO(marks.fit_to_tokens(frame, 1, 28)))
    assert marks.image_tokens(*tall.size, 28) == 1
    qwen3 = _summary(0, **{"clip.projector_type": "qwen3vl_merger", "clip.vision.patch_size": 16})
    qwen25 = _summary(0, **{"clip.projector_type": "qwen2.5vl_merger", "clip.vision.patch_size": 14})
    stated = _summary(0, **{"clip.projector_type": "pixtral", "clip.vision.patch_size": 16,
                            "clip.vision.spatial_merge_size": 2})
    llava = _summary(0, **{"clip.projector_type": "mlp", "clip.vision.patch_size": 14})
    assert [vlm.token_unit_of(s) for s in (qwen3, qwen25, stated, llava)] == [32, 28, 32, 14]
    msgs = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": vlm.image_data_uri(frame)}},
                                         {"type": "text", "text": "hi"}]}]
    sent = vlm.fit_images(msgs, 1024, 32)[0]["content"][0]["image_url"]["url"]
    assert Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))).size == (1344, 768)


def _request(step: str = "Clicked in gedit", ocr: str = "File Edit notes.txt Open Save") -> reflect.Request:
    from deskscribe.models.evidence import norm

    return reflect.Request(0, [], step, "click left at (30, 50)", {}, norm(f"{step} {ocr} gedit notes.txt - gedit"),
                           f"{step} Open Save notes.txt - gedit gedit", ["Text Editor"])


class ScriptedVLM:
    """Test double of a VLM (models.base.Captioner with complete()): answers what the test scripts."""

    def __init__(self, answer: str) -> None:
        self.info = ModelInfo("llama_cpp", "scripted-vlm.gguf", abilities=Abilities(vision=True))
        self.answer, self.asked = answer, []

    def complete(self, messages, *, schema=None, max_tokens=256):  # type: ignore[no-untyped-def]
        self.asked.append((messages, schema))
        return self.answer


def test_a_reflection_is_kept_only_when_it_is_readable_and_grounded():
    ok = reflect.reflect(ScriptedVLM('{"changed": "The Open and Save items appeared in gedit", "looks_right": false}'),
                         _request())
    assert ok == {"by": "model:scripted-vlm.gguf", "changed": "The Open and Save items appeared in gedit",
                  "looks_right": False}
    assert "judged step 1 not right" in (reflect.review_note({0: ok}, ["Clicked in gedit"]) or "")
    for raw, why in [("Ġx{", "not JSON"), ('{"changed": "ÃĤ ÂŁ", "looks_right": true}', "names no task"),
                     ('{"changed": "A dialog about Lisbon flights opened", "looks_right": true}', "do not show"),
                     ('{"changed": "Something happened here and there again", "looks_right": true}', "not about"),
                     ('{"changed": "the the the the the the the the the", "looks_right": true}', "")]:
        got = reflect.reflect(ScriptedVLM(raw), _request())
        assert set(got) == {"by", "rejected"} and why in got["rejected"], (raw, got)
    assert "1 of 1 step reflections rejected" in (reflect.review_note({0: got}, ["x"]) or "")
    assert reflect.wanted({}, 7, on_cpu=True) and reflect.wanted({"target": "File"}, 7, on_cpu=False)
    assert not reflect.wanted({"target": "File"}, 7, on_cpu=True) and not reflect.wanted({"typed": "ls"}, 7, True)
    assert not reflect.wanted({}, None, on_cpu=False)  # a step that stands for no action


@pytest.mark.model
def test_describe_with_the_tiny_vlm_rejects_its_garbage_and_the_steps_stand(
        screenagent, tiny_vlm, smollm2_path, deskscribe_home, tmp_path):
    model, mmproj = tiny_vlm
    deskscribe_home.mkdir(parents=True, exist_ok=True)
    (deskscribe_home / "config.toml").write_text(
        f'[models]\nvlm_model = "{model}"\nvlm_mmproj = "{mmproj}"\nn_ctx = 2048\n')
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(screenagent / SHORT_EPISODE)]).exit_code == 0
    done = runner.invoke(main, ["describe", "--progress", "none"])
    assert done.exit_code == 0 and "described 1 of 1" in done.output, done.output
    shown = json.loads(runner.invoke(main, ["show", "1", "--json"]).stdout)["description"]
    run = shown["model_run"]
    # "auto" with a VLM configured: the model is asked (the VLM, with the marked frames) and the steps are read
    assert run["params"]["compose"] == "model" and run["params"]["task_by"] == "vlm"
    assert run["params"]["vlm"] == model.name and run["params"]["image_max_tokens"] == 1024
    assert shown["task"]["by"] == "steps" and shown["task_by"] == "the steps"  # its garbage task was rejected
    assert shown["task"]["task"] == shown["instruction"] and shown["review_reason"]
    rows = shown["step_rows"]
    assert rows and all(r["author"] == "steps" for r in rows)  # the step writer's text stands
    # on the CPU only the steps whose evidence names nothing are read, and each garbage answer is rejected
    unnamed = [r for r in rows if r["event_id"] is not None and not (r["evidence"].get("target")
                                                                     or r["evidence"].get("typed"))]
    assert unnamed, "the episode should have a step the evidence could not name"
    assert [r["event_id"] for r in rows if "reflection" in r["evidence"]] == [r["event_id"] for r in unnamed]
    for r in unnamed:
        assert r["evidence"]["reflection"]["by"] == f"model:{model.name}" and r["evidence"]["reflection"]["rejected"]
    assert "step reflections rejected" in shown["review_reason"]
    text = runner.invoke(main, ["show", "1"]).output
    assert "task written from the steps" in text and f"reflection by model:{model.name} rejected" in text

    out = tmp_path / "jl"
    exported = runner.invoke(main, ["export", "jsonl", str(out), "--include-unreviewed", "--val-fraction", "0"])
    assert exported.exit_code == 0, exported.output
    [traj] = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    by_event = {r["event_id"]: r["evidence"].get("reflection") for r in rows}
    exported_reflections = [s["value"]["reflection"] for s in traj["traj"] if s["event_id"] is not None]
    assert exported_reflections == [by_event[s["event_id"]] for s in traj["traj"] if s["event_id"] is not None]
    assert any(exported_reflections)

    from datasets import load_dataset

    hf = tmp_path / "hf"
    exported = runner.invoke(main, ["export", "hf", str(hf), "--include-unreviewed", "--val-fraction", "0"])
    assert exported.exit_code == 0, exported.output
    rows = list(load_dataset("parquet", data_files=sorted(str(p) for p in (hf / "data" / "trajectories")
                                                          .glob("*.parquet")), split="train"))
    kept = [r["reflection"] for r in rows if r["reflection"]]
    assert kept and all(r["by"] == f"model:{model.name}" and r["rejected"] and r["changed"] is None for r in kept)


@pytest.mark.model
def test_with_smollm2_and_compose_model_the_json_task_path_runs(db, screenagent, smollm2_path):
    from deskscribe.capture.importer import import_folder
    from deskscribe.config import Config
    from deskscribe.models import describe as pipeline
    from deskscribe.models import prompt
    from deskscribe.storage import descriptions as store

    ep = import_folder(db, screenagent / SHORT_EPISODE).episode_id
    cfg = Config()
    cfg.describe.compose = "model"
    res = pipeline.run_batch(db, cfg)
    assert res.done == [ep] and res.timers.llm_calls >= 1
    desc = store.current_description(db, ep)
    assert set(desc["task"]) == {"task", "parameters", "by"}
    assert desc["task"]["by"] in ("steps", f"model:{smollm2_path.name}")
    if desc["task"]["by"] == "steps":  # the check rejected SmolLM2's answer: the reason says why
        assert desc["review_reason"] and desc["task"]["task"] == desc["instruction"]
    else:  # it passed the check: its task and every parameter are in the evidence
        assert all(isinstance(v, str) for v in desc["task"]["parameters"].values())
    run = store.get_model_run(db, desc["model_run_id"])
    assert run["prompt_version"] == prompt.PROMPT_VERSION == "describe-v6"
    assert all(r["author"] == "steps" for r in desc["step_rows"])


def test_show_names_the_task_s_author_from_the_stored_task():
    from deskscribe.models.cli_describe import task_author

    run = {"model": "q.gguf", "params": {"compose": "model"}}
    by_model = {"author": "model", "task": {"by": "model:q.gguf"}, "model_run": run, "review_reason": "a step flagged"}
    assert task_author(by_model) == "q.gguf"  # a flagged reflection does not take the task from its author
    assert task_author({**by_model, "task": {"by": "steps"}, "review_reason": None}) == "the steps"
    assert task_author({**by_model, "author": "person"}) == "you"
    assert task_author({"author": "model", "task": None, "model_run": run, "review_reason": "x"}) == "the steps"


@pytest.mark.model
def test_a_summarizer_that_is_the_vlm_s_own_gguf_is_loaded_once(db, tiny_vlm):
    from deskscribe.config import Config, ModelsConfig
    from deskscribe.models import describe as pipeline
    from deskscribe.storage import descriptions as store
    from tests.models.test_describe import _synthetic_episode

    model, mmproj = tiny_vlm
    ep = _synthetic_episode(db, ["File Edit", "File New Open"])
    cfg = Config()
    cfg.models = ModelsConfig(vlm_model=str(model), vlm_mmproj=str(mmproj), summarizer=str(model), n_ctx=2048,
                              vlm_image_max_tokens=4)
    assert pipeline.shares_weights(cfg)
    res = pipeline.run_batch(db, cfg)
    assert res.done == [ep] and not res.failed
    desc = store.current_description(db, ep)
    run = store.get_model_run(db, desc["model_run_id"])
    assert run["model"] == model.name and run["params"]["vlm"] == model.name and "mmproj" in run["params"]
    assert run["params"]["image_max_tokens"] == 4 and desc["task"]["by"] == "steps"  # garbage: rejected


@pytest.fixture(scope="session")
def tiny_qwen3vl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.models import tiny_qwen3vl as builder

    return builder.build(tmp_path_factory.mktemp("tiny-qwen3vl"))


@pytest.mark.model
def test_a_tiny_qwen3_vl_runs_the_same_path_through_mtmd(screenagent, tiny_qwen3vl, deskscribe_home):
    model, mmproj = tiny_qwen3vl
    assert read_gguf(mmproj).projector_type == "qwen3vl_merger" and read_gguf(model).architecture == "qwen3vl"
    deskscribe_home.mkdir(parents=True, exist_ok=True)
    (deskscribe_home / "config.toml").write_text(
        f'[models]\nvlm_model = "{model}"\nvlm_mmproj = "{mmproj}"\nsummarizer = "{model}"\n'
        'vlm_image_max_tokens = 256\n')
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(screenagent / SHORT_EPISODE)]).exit_code == 0
    done = runner.invoke(main, ["describe", "--progress", "none"])
    assert done.exit_code == 0 and "described 1 of 1" in done.output, done.output
    shown = json.loads(runner.invoke(main, ["show", "1", "--json"]).stdout)["description"]
    params = shown["model_run"]["params"]
    # the generic handler (chat template from the GGUF), Qwen3-VL's 16 px patches merged 2×2, the cap applied
    assert params["handler"] == "mtmd" and params["image_token_px"] == 32 and params["image_max_tokens"] == 256
    assert shown["model_run"]["model"] == model.name and params["vlm"] == model.name  # one model, loaded once
    assert shown["task"]["by"] == "steps" and shown["review_reason"]  # its random answers were rejected
    reflected = [r["evidence"]["reflection"] for r in shown["step_rows"] if "reflection" in r["evidence"]]
    assert reflected and all(r["by"] == f"model:{model.name}" and r["rejected"] for r in reflected)
    assert all(r["author"] == "steps" for r in shown["step_rows"])
