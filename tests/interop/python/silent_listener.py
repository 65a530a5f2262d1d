"""A silent pycrdt listener, driven by tests/interop/pycrdt-listener.test.js.

Real clients listen without sending: a pycrdt `Provider` syncs its document and sends nothing
afterwards while nothing arrives (issue 21; it sends back each update it applies). This one
joins a room through pycrdt's own `Provider` over a small WebSocket channel (the `websockets`
package, with its own keepalive pings off, so a quiet room gets no frame from it but the
pongs the library answers on its own), reports what arrives, and on request writes scene
nodes laid out per docs/scene-schema.md.

    python silent_listener.py ws://127.0.0.1:PORT/ws/ROOM [DEADLINE_SECS]

Output: one JSON object per line on stdout ("synced", "text", "wrote", "closed", "error").
Input: one command per line on stdin ("write-scene", "quit"); end of input quits too.
Every wait is bounded by DEADLINE_SECS (default 120).
"""

from __future__ import annotations

import json
import sys

import anyio
from pycrdt import Doc, Map, Provider, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class WebsocketChannel:
    """pycrdt's `Channel` over one `websockets` connection; counts the frames it sends."""

    def __init__(self, socket: ClientConnection, path: str) -> None:
        self._socket = socket
        self._path = path
        self.sent = 0

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> "WebsocketChannel":
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed as closed:
            frame = closed.rcvd
            emit("closed", code=frame.code if frame else 1006, reason=frame.reason if frame else "")
            raise StopAsyncIteration from closed

    async def send(self, message: bytes) -> None:
        self.sent += 1
        await self._socket.send(message)

    async def recv(self) -> bytes:
        while True:
            message = await self._socket.recv()
            if isinstance(message, bytes):
                return message


def key_between(a: str | None, b: str | None) -> str:
    """A sibling-order key strictly between a and b (docs/scene-schema.md, same algorithm)."""
    if a is None and b is None:
        return "V"
    if b is None:
        for i, c in enumerate(a):
            if c != "z":
                return a[:i] + ALPHABET[ALPHABET.index(c) + 1]
        return a + "1"
    if a is None:
        for i, c in enumerate(b):
            if c > "1":
                return b[:i] + ALPHABET[ALPHABET.index(c) - 1]
        return "0" * (b.index("1") + 1) + "z"
    if a >= b:
        raise ValueError(f"{a} is not below {b}")
    return midpoint(a, b)


def midpoint(a: str, b: str | None) -> str:
    if b is not None:
        n = 0
        while (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + midpoint(a[n:], b[n:])
    da = ALPHABET.index(a[0]) if a else 0
    db = ALPHABET.index(b[0]) if b is not None else len(ALPHABET)
    if db - da > 1:
        return ALPHABET[-(-(da + db) // 2)]
    if b is not None and len(b) > 1:
        return b[:1]
    return ALPHABET[da] + midpoint(a[1:], None)


def write_scene(doc: Doc) -> None:
    """A shelf (group) holding a crate (box) and a hidden globe (sphere), a lamp after it and
    a locked camera before it at the root, each key a plain value per the schema."""
    nodes = doc.get("nodes", type=Map)
    first = key_between(None, None)
    with doc.transaction():
        nodes["py-shelf"] = Map({"name": "Shelf", "kind": "group", "order": first, "px": 1.5, "ry": 0.25})
        nodes["py-crate"] = Map({
            "name": "Crate", "kind": "mesh", "parent": "py-shelf", "order": first, "primitive": "box",
            "width": 0.5, "height": 0.25, "depth": 0.4, "color": "#3366CC", "roughness": 0.9,
        })
        nodes["py-globe"] = Map({
            "name": "Globe", "kind": "mesh", "parent": "py-shelf", "order": key_between(first, None),
            "primitive": "sphere", "radius": 0.3, "sy": 2, "visible": False,
        })
        nodes["py-lamp"] = Map({
            "name": "Lamp", "kind": "light", "order": key_between(first, None), "light": "point",
            "lightColor": "#ffcc00", "intensity": 4,
        })
        # A key this schema does not know is kept as it is, and ignored by readers.
        nodes["py-eye"] = Map({"name": "Eye", "kind": "camera", "order": key_between(None, first), "locked": True, "author": "pycrdt"})


async def listen(url: str) -> int:
    doc = Doc()
    text = doc.get("t", type=Text)
    async with connect(url, ping_interval=None, compression=None, proxy=None, max_size=16 << 20) as socket:
        channel = WebsocketChannel(socket, url)
        text.observe(lambda _event: emit("text", t=str(text), sent=channel.sent))
        async with Provider(doc, channel) as provider:
            await provider.synced.wait()
            emit("synced", t=str(text), sent=channel.sent)
            while True:
                line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
                command = line.strip()
                if command == "write-scene":
                    write_scene(doc)
                    emit("wrote", sent=channel.sent)
                elif command in ("quit", ""):
                    break
                else:
                    emit("error", message=f"unknown command {command!r}")
    return 0


async def main() -> int:
    url = sys.argv[1]
    deadline = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    try:
        with anyio.fail_after(deadline):
            return await listen(url)
    except TimeoutError:
        emit("error", message=f"deadline of {deadline} s passed")
        return 2


if __name__ == "__main__":
    sys.exit(anyio.run(main))
