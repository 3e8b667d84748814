"""The HTTP protocol of a worker: uvicorn's httptools protocol with a deadline for a
request's headers. uvicorn has none: a client that opened connections and sent nothing, or
sent its headers a byte at a time, held them for ever (the body's deadline is the app's,
`read_timeout_seconds` in `app.py`)."""

from __future__ import annotations

import asyncio

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def with_header_deadline(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's protocol, closing a connection whose request headers take over `seconds`
    (with a 408 when part of a request came)."""
    answer = orjson.dumps({"error": f"the request headers did not arrive within {seconds:g} s "
                                    "(read_timeout_seconds)"})
    timeout = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
               b"content-length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _begun = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._begun = True
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            self._begun = False
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a request is being answered; uvicorn's keep-alive takes over after it
            if self._begun:
                self.transport.write(timeout)
            self.transport.close()

    return HeaderDeadlineProtocol
