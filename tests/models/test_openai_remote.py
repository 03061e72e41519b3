"""The OpenAI-compatible backend against a real `python -m llama_cpp.server` on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models.openai_remote import extract_json
from deskscribe.models.registry import open_text_model

SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "steps": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "steps"],
}
MESSAGES = [{"role": "user", "content": "In JSON: what did someone do who ran `sudo apt install xeyes`?"}]


def _cfg(url: str, **kw: object) -> ModelsConfig:
    return ModelsConfig(backend="openai", server_url=url, timeout_s=60, **kw)  # type: ignore[arg-type]


@pytest.mark.model
def test_schema_completion_from_a_real_server(llama_server: str) -> None:
    with open_text_model(_cfg(llama_server)) as model:
        text = model.complete(MESSAGES, schema=SCHEMA, max_tokens=48)
        info = model.info
    assert text.lstrip().startswith("{")
    if model.last_usage.get("completion_tokens", 48) < 48:  # complete answers parse
        assert set(json.loads(text)) >= {"summary", "steps"}
    assert info.backend == "openai" and info.sha256 is None
    assert info.model  # asked from /v1/models when models.server_model is empty
    assert info.params["server_url"] == llama_server


@pytest.mark.model
def test_plain_completion_and_api_key_header(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKSCRIBE_TEST_KEY", "sk-local")
    model = open_text_model(_cfg(llama_server, server_model="smollm2", api_key_env="DESKSCRIBE_TEST_KEY"))
    text = model.complete([{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert isinstance(text, str) and model.last_usage["completion_tokens"] > 0
    assert model.info.model == "smollm2"


def test_missing_api_key_is_named(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKSCRIBE_NO_SUCH_KEY", raising=False)
    model = open_text_model(_cfg(llama_server, server_model="m", api_key_env="DESKSCRIBE_NO_SUCH_KEY"))
    with pytest.raises(ModelError, match="DESKSCRIBE_NO_SUCH_KEY"):
        model.complete(MESSAGES)


def test_wrong_path_is_an_http_error_naming_the_url(llama_server: str) -> None:
    wrong = llama_server.removesuffix("/v1") + "/nope"
    model = open_text_model(_cfg(wrong, server_model="m"))
    with pytest.raises(ModelError, match=r"HTTP 404") as err:
        model.complete(MESSAGES)
    assert wrong in str(err.value) and "\n" not in str(err.value)


def test_server_down_is_one_clear_line(free_port) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: connection refused at once
    with pytest.raises(ModelError, match="cannot reach the model server") as err:
        open_text_model(_cfg(url, server_model="m")).complete(MESSAGES)
    assert url in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ModelError, match="cannot reach the model server"):
        _ = open_text_model(_cfg(url)).info  # the model id is asked from the server


@pytest.fixture
def html_server() -> Iterator[str]:
    """A real HTTP server on loopback that answers HTML, like a proxy login page or a wrong port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _html(self) -> None:
            body = b"<html><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _html

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_non_json_reply_is_a_model_error(html_server: str) -> None:
    model = open_text_model(_cfg(html_server, server_model="m"))
    with pytest.raises(ModelError, match="did not answer JSON") as err:
        model.complete(MESSAGES)
    assert html_server in str(err.value)


def test_bad_url_is_refused() -> None:
    with pytest.raises(ModelError, match="http"):
        open_text_model(_cfg("127.0.0.1:8080"))


def test_json_is_extracted_from_servers_that_ignore_the_schema() -> None:
    assert extract_json('```json\n{"summary": "x", "steps": []}\n```') == '{"summary": "x", "steps": []}'
    assert extract_json('Sure! {"a": 1} Hope this helps.') == '{"a": 1}'
    assert extract_json("no json here") == "no json here"



@pytest.mark.model
def test_captions_from_a_real_vision_server(vlm_server: str) -> None:
    import io

    from PIL import Image

    from deskscribe.models.vlm import open_vlm_captioner

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 60, 200)).save(buf, "JPEG")
    with open_vlm_captioner(_cfg(vlm_server, captioner="vlm")) as captioner:
        text, ocr = captioner.caption(buf.getvalue(), app="firefox", title="Docs")
        info = captioner.info
    assert isinstance(text, str) and ocr is None
    assert captioner.last_usage["completion_tokens"] > 0  # random weights: the words are noise
    assert info.backend == "openai" and "prompt_version" in info.params
