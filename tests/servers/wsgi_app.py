"""A plain WSGI app for the SIGTERM drill under gunicorn (sync or gthread workers): /slow?ms=N
answers after N ms, /ready answers 200. Shutdown is gunicorn's own."""
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        ms = int(parse_qs(environ.get("QUERY_STRING", "")).get("ms", ["1000"])[0])
        time.sleep(ms / 1000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
