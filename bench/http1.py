"""A small HTTP/1.1 keep-alive client for the load process.

httpx cost the load client ~1.7 ms of CPU per request: at 200 requests/s a third of a core on
a 2-core host, taken from the processes being measured (bench/, event lag). This client writes
the request and reads a Content-Length answer on pooled asyncio streams, ~0.1 ms per request.
It speaks only what the bench needs: requests with a JSON body or none, answers with a
Content-Length (uvicorn's for every JSON response) or chunked.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


@dataclass
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Client:
    """Keep-alive connections to one host, at most ``connections`` open; callers beyond them wait."""

    def __init__(self, base_url: str, connections: int, headers: dict[str, str] | None = None, timeout: float = 30.0):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._common = f"Host: {self.host}:{self.port}\r\n{extra}"
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)

    async def request(self, method: str, path: str, body: object = None) -> Answer:
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self._common}Content-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        message = (head + "\r\n").encode() + payload
        async with self._slots:
            return await asyncio.wait_for(self._exchange(message), self.timeout)

    async def _exchange(self, message: bytes) -> Answer:
        while True:
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(message)
                answer, keep = await _read_answer(reader)
            except (OSError, asyncio.IncompleteReadError, HttpError) as exc:
                writer.close()
                # The server closed an idle kept-alive connection before reading this request:
                # nothing was processed, so a fresh connection may send it again.
                if reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial:
                    continue
                raise HttpError(repr(exc)) from exc
            except BaseException:  # timed out (cancelled) mid-answer: the connection is unusable
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return answer

    async def close(self) -> None:
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise HttpError(f"not an HTTP status line: {lines[0]!r}") from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # the empty trailer
        body = b"".join(chunks)
    else:
        raise HttpError("an answer without Content-Length or chunked encoding")
    return Answer(status, body), headers.get("connection", "").lower() != "close"
