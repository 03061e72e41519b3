"""The OpenAI-compatible HTTP backend: llama.cpp's server, vLLM, Ollama, or a hosted API.

Standard library only (urllib): one POST per completion, no connection kept, so ``close()`` has nothing
to free. Every failure a user can meet (server down, wrong URL, HTTP error, a reply that is not JSON) is a
:class:`ModelError` naming the URL.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from deskscribe.config import ModelsConfig
from deskscribe.errors import ModelError
from deskscribe.models.base import Abilities, ModelInfo

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")


def extract_json(text: str) -> str:
    """The JSON object in a reply from a server that ignored the schema (fences, a sentence around it).

    Returns the text unchanged when no object parses; the caller's validation decides what to do.
    """
    stripped = _FENCE.sub("", text.strip())
    for candidate in (stripped, stripped[stripped.find("{") : stripped.rfind("}") + 1]):
        if not candidate:
            continue
        try:
            json.loads(candidate)
        except ValueError:
            continue
        return candidate
    return text


class OpenAITextModel:
    """Chat completions from ``cfg.server_url`` (``…/v1``)."""

    def __init__(self, cfg: ModelsConfig) -> None:
        url = cfg.server_url.strip().rstrip("/")
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
            raise ModelError(f"models.server_url must be an http(s) URL such as http://127.0.0.1:8080/v1 (got {url!r})")
        self.cfg = cfg
        self.base = url
        self._model_id = cfg.server_model.strip() or None
        self._minimal = False  # set once the server rejected our non-standard fields
        self.last_usage: dict[str, int] = {}

    @property
    def model_id(self) -> str:
        """The configured model, else the first one the server lists (one GET, remembered)."""
        if self._model_id is None:
            data = self._call("GET", "/models")
            try:
                self._model_id = str(data["data"][0]["id"])
            except (KeyError, IndexError, TypeError) as exc:
                raise ModelError(
                    f"the model server at {self.base} lists no models; set models.server_model"
                ) from exc
        return self._model_id

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            backend="openai",
            model=self.model_id,
            sha256=None,
            params={
                "server_url": self.base,
                "temperature": self.cfg.temperature,
                "seed": self.cfg.seed,
                "repeat_penalty": self.cfg.repeat_penalty,
            },
        )

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.cfg.api_key_env:
            key = os.environ.get(self.cfg.api_key_env)
            if not key:
                raise ModelError(
                    f"environment variable {self.cfg.api_key_env} (models.api_key_env) is not set: "
                    "export your API key there"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.base + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").replace("\n", " ").strip()
            raise _HTTPStatus(exc.code, f"the model server at {url} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(
                f"cannot reach the model server at {url} ({reason}); start it or fix models.server_url"
            ) from exc
        try:
            return json.loads(raw)
        except ValueError as exc:
            snippet = raw[:60].decode("utf-8", "replace").replace("\n", " ")
            raise ModelError(f"the model server at {url} did not answer JSON (got {snippet!r}…)") from exc

    def _body(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            "temperature": self.cfg.temperature,
            "max_tokens": max_tokens,
        }
        if not self._minimal:  # llama.cpp's server and vLLM take these; strict servers reject them
            body["seed"] = self.cfg.seed
            body["repeat_penalty"] = self.cfg.repeat_penalty
        if schema is not None:
            body["response_format"] = (
                {"type": "json_object"} if self._minimal else {"type": "json_object", "schema": schema}
            )
        return body

    def complete(
        self, messages: list[dict[str, Any]], *, schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        """One chat completion; with ``schema`` the reply is the JSON object (fences and prose removed)."""
        try:
            reply = self._call("POST", "/chat/completions", self._body(messages, schema, max_tokens))
        except _HTTPStatus as exc:
            if exc.status not in (400, 422) or self._minimal:
                raise
            self._minimal = True  # retry once with only standard OpenAI fields
            reply = self._call("POST", "/chat/completions", self._body(messages, schema, max_tokens))
        try:
            content = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(
                f"the model server at {self.base} sent a reply without choices: {str(reply)[:120]}"
            ) from exc
        self.last_usage = dict(reply.get("usage") or {})
        return extract_json(content) if schema is not None else content

    def count_tokens(self, text: str) -> int:
        """An estimate (4 characters a token): the OpenAI API has no tokenizer endpoint."""
        return len(text) // 4 + 1

    def close(self) -> None:
        """Nothing held between requests."""

    def __enter__(self) -> OpenAITextModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _HTTPStatus(ModelError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class OpenAICaptioner:
    """Frame captions from a vision model behind an OpenAI-compatible server (images as data: URIs)."""

    def __init__(self, cfg: ModelsConfig) -> None:
        self._server = OpenAITextModel(cfg)
        self.last_usage: dict[str, int] = {}

    @property
    def info(self) -> ModelInfo:
        from deskscribe.models.vlm import CAPTION_MAX_TOKENS, PROMPT_VERSION

        base = self._server.info
        params = {**base.params, "prompt_version": PROMPT_VERSION, "max_tokens": CAPTION_MAX_TOKENS}
        return ModelInfo(backend="openai", model=base.model, sha256=None, params=params,
                         abilities=Abilities(vision=True))

    def caption(self, image: bytes, *, app: str | None = None, title: str | None = None) -> tuple[str, str | None]:
        from deskscribe.models.vlm import CAPTION_MAX_TOKENS, caption_messages

        text = self._server.complete(caption_messages(image, app, title), max_tokens=CAPTION_MAX_TOKENS)
        self.last_usage = self._server.last_usage
        return text.strip(), None

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> OpenAICaptioner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
