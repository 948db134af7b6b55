"""A plain ASGI app for the SIGTERM drill under uvicorn: /slow?ms=N answers after N ms, /ready
answers 200. Shutdown is uvicorn's own: it stops accepting, drains, then re-raises SIGTERM."""
import asyncio
from urllib.parse import parse_qs


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/slow":
        ms = int(parse_qs(scope["query_string"].decode()).get("ms", ["1000"])[0])
        await asyncio.sleep(ms / 1000)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok\n"})
