"""A local stand-in for an OpenAI-compatible chat-completions endpoint, driven by a script.

It speaks the real wire protocol, so the LLM brain is tested through the official SDK over
real HTTP:

    POST /v1/chat/completions   Authorization: Bearer <key>
         {"model", "messages", "tools"?, "tool_choice"?, ...}
      →  200 {"id", "object": "chat.completion", "created", "model",
              "choices": [{"index": 0, "message": {"role": "assistant", "content",
                           "tool_calls"?: [{"id", "type": "function",
                                            "function": {"name", "arguments": "<json>"}}]},
                           "finish_reason": "tool_calls" | "stop"}],
              "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
      →  4xx/5xx {"error": {"message", "type", "code"}}

A script is a list of steps, one per request, in order:

    tool_call("check_inventory_stock", {"item": "NZ-S1.5"})   one call (arguments may be a
    tool_calls(("a", {...}), ("b", "{not json"))                raw string: bad JSON on purpose)
    final("Done.")  or  final(lambda results: f"... {results[-1]['data']...}")
                        a text; a function gets the tool messages of the request, parsed
    delay(5, then=final("late"))                                answer late (client timeouts)
    http_error(500, "boom")                                     an error response
    raw_response({"choices": []})                               any body, as is (malformed)
    any function of the request JSON returning an assistant message dict (or another step)

When the script runs out the server answers 500 "script exhausted", or repeats the last step
with `repeat_last=True`. Every request is recorded in `server.requests`.

In tests: `server, base_url = start_llm_server([...])` … `server.stop()`. For demos:
`python -m devtools.llm_server --port 9200` answers with `demo_step`: it checks the stock
of any SKU the user mentions and repeats the tool's figures verbatim.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_RECORDED = 1000
COMPLETIONS_PATH = "/v1/chat/completions"
SKU = re.compile(r"\b[A-Z]{2,3}(?:-[A-Z0-9.]+)+\b")

Request = dict[str, Any]


# ------------------------------------------------------------------------------- steps


@dataclass
class Reply:
    """An assistant message to answer with."""

    content: str | Callable[[list[Any]], str] | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def message(self, request: Request, call_ids: Callable[[], str]) -> dict[str, Any]:
        content = self.content(tool_results(request)) if callable(self.content) else self.content
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if self.calls:
            message["tool_calls"] = [
                {
                    "id": call_ids(),
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": arguments
                        if isinstance(arguments, str)
                        else json.dumps(arguments, ensure_ascii=False),
                    },
                }
                for name, arguments in self.calls
            ]
        return message


@dataclass
class Delay:
    """Wait, then answer with another step (or an empty final text)."""

    seconds: float
    then: Any = None


@dataclass
class HttpError:
    """Answer with an OpenAI-style error body and this status."""

    status: int
    message: str
    type: str = "server_error"
    code: str | None = None


@dataclass
class RawResponse:
    """Answer with this body as is, e.g. a completion an endpoint got wrong."""

    body: Any
    status: int = 200


def tool_call(name: str, arguments: dict[str, Any] | str | None = None) -> Reply:
    """The model calls one tool; a string is sent as the arguments unchanged (bad JSON too)."""
    return Reply(calls=[(name, {} if arguments is None else arguments)])


def tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    """The model calls several tools in one message."""
    return Reply(calls=list(calls))


def final(text: str | Callable[[list[Any]], str]) -> Reply:
    """The model answers with text; a function gets the request's tool results (parsed)."""
    return Reply(content=text)


def delay(seconds: float, then: Any = None) -> Delay:
    return Delay(seconds, then)


def http_error(
    status: int, message: str = "", type: str | None = None, code: str | None = None
) -> HttpError:
    error_type = type or ("server_error" if status >= 500 else "invalid_request_error")
    return HttpError(status, message or HTTPStatus(status).phrase, error_type, code)


def raw_response(body: Any, status: int = 200) -> RawResponse:
    return RawResponse(body, status)


def tool_results(request: Request) -> list[Any]:
    """The contents of the request's `tool` messages, JSON-decoded where they are JSON."""
    results = []
    for message in request.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "tool":
            content = message.get("content")
            try:
                results.append(json.loads(content))
            except (TypeError, ValueError):
                results.append(content)
    return results


def offered_tools(request: Request) -> list[str]:
    """Names of the tools a request offers the model."""
    return [tool["function"]["name"] for tool in request.get("tools") or []]


# -------------------------------------------------------------------- default behaviour


def _summary(result: Any) -> str:
    if not isinstance(result, dict):
        return str(result)
    if result.get("status") != "success":
        return f"{result.get('tool', 'The tool')}: {result.get('message') or result.get('status')}"
    data = result.get("data") or {}
    lines = []
    for row in data.get("rows") or []:
        lines.append(
            f"- {row['sku']} @ {row['warehouse']}: available {row['available']} {row['uom']} "
            f"(actual {row['actual']}, reserved {row['reserved']})"
        )
    for total in data.get("totals") or []:
        lines.append(
            f"Total {total['sku']}: actual {total['actual']} {total['uom']}, "
            f"available {total['available']} {total['uom']}"
        )
    return "\n".join(lines) or "No stock rows."


def demo_step(request: Request) -> dict[str, Any] | Reply:
    """Check the stock of a SKU the user mentions, then repeat the tool's figures verbatim."""
    messages = request.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return final("\n".join(_summary(result) for result in tool_results(request)))
    user_text = next(
        (m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), ""
    )
    sku = SKU.search(user_text if isinstance(user_text, str) else "")
    if sku and "check_inventory_stock" in offered_tools(request):
        return tool_call("check_inventory_stock", {"item": sku.group(0)})
    return final("Mention a SKU and I will check its stock.")


# ------------------------------------------------------------------------------ server


@dataclass
class Recorded:
    """One request as received."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


class LLMServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        script: list[Any],
        *,
        api_key: str | None = None,
        repeat_last: bool = False,
    ) -> None:
        super().__init__(address, _Handler)
        self.script = list(script)
        self.api_key = api_key
        self.repeat_last = repeat_last
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._position = 0
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def completions(self) -> list[Request]:
        """Bodies of the chat-completion requests received, in order."""
        return [r.body for r in self.requests if r.path == COMPLETIONS_PATH]

    def next_step(self) -> Any:
        with self.lock:
            if self._position < len(self.script):
                step = self.script[self._position]
                self._position += 1
                return step
            if self.repeat_last and self.script:
                return self.script[-1]
            return http_error(500, "script exhausted")

    def next_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}{next(self._ids):06d}"

    def record(self, entry: Recorded) -> None:
        with self.lock:
            if len(self.requests) < MAX_RECORDED:
                self.requests.append(entry)

    def start(self) -> LLMServer:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="llm-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes handlers sleeping in a delay step
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server: LLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        pass

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/v1/models":
            model = {"id": "local-script", "object": "model", "created": 0, "owned_by": "devtools"}
            return self._send(200, {"object": "list", "data": [model]})
        self._error(404, f"no route {self.path}", "invalid_request_error", "not_found")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return self._error(413, "request too large", "invalid_request_error", None)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.record(Recorded(path, headers, body))
        if path != COMPLETIONS_PATH:
            return self._error(404, f"no route {path}", "invalid_request_error", "not_found")
        refusal = self._check(body)
        if refusal:
            return self._error(*refusal)
        self._answer(body, self.server.next_step())

    def _check(self, body: Any) -> tuple[int, str, str, str | None] | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return 401, "missing bearer token", "invalid_request_error", "invalid_api_key"
        if self.server.api_key is not None and auth[7:] != self.server.api_key:
            return 401, "incorrect API key", "invalid_request_error", "invalid_api_key"
        if not isinstance(body, dict):
            return 400, "body must be a JSON object", "invalid_request_error", None
        if not isinstance(body.get("model"), str) or not body["model"]:
            return 400, "you must provide a model parameter", "invalid_request_error", None
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, "messages must be a non-empty array", "invalid_request_error", None
        if body.get("stream"):
            return 400, "streaming is not supported here", "invalid_request_error", None
        return None

    def _answer(self, request: Request, step: Any) -> None:
        if callable(step) and not isinstance(step, Reply):
            step = step(request)
        if isinstance(step, Delay):
            if self.server.stopping.wait(step.seconds):
                return
            return self._answer(request, step.then if step.then is not None else final(""))
        if isinstance(step, HttpError):
            return self._error(step.status, step.message, step.type, step.code)
        if isinstance(step, RawResponse):
            return self._send(step.status, step.body)
        if isinstance(step, Reply):
            message = step.message(request, lambda: self.server.next_id("call_"))
        elif isinstance(step, dict):
            message = {"role": "assistant", "content": None, **step}
        else:
            return self._error(500, f"bad script step {step!r}", "server_error", None)
        prompt_tokens = len(json.dumps(request, ensure_ascii=False)) // 4
        completion_tokens = len(json.dumps(message, ensure_ascii=False)) // 4
        self._send(
            200,
            {
                "id": self.server.next_id("chatcmpl-"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def _error(self, status: int, message: str, error_type: str, code: str | None) -> None:
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self._send(status, body)

    def _send(self, status: int, body: Any) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. timed out during a delay step)


def start_llm_server(
    script: list[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    repeat_last: bool = False,
) -> tuple[LLMServer, str]:
    """Serve `script` in a daemon thread; returns the server and its base URL (…/v1)."""
    server = LLMServer((host, port), script, api_key=api_key, repeat_last=repeat_last).start()
    return server, server.base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--api-key", default=None, help="accept only this bearer token")
    args = parser.parse_args(argv)
    server, base_url = start_llm_server(
        [demo_step], host=args.host, port=args.port, api_key=args.api_key, repeat_last=True
    )
    print(
        f"LLM stand-in at {base_url} (set AI_ASSISTANT_LLM_BASE_URL to it); Ctrl-C stops",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
