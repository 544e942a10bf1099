"""Web front end: a WSGI app that turns POSTed electrode values into an MP4.

POST a JSON body ``{"values": [[...], ...], "rate": 10}`` (electrodes x times, 0..1)
and get ``video/mp4`` back, drawn on the bundled brain. Run it with
``python examples/web_service.py`` and it serves on http://127.0.0.1:8000 .
"""
import json
import tempfile
from pathlib import Path

import fastviz


def app(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with tempfile.TemporaryDirectory() as tmp:
            out = fastviz.render_signal(body["values"], Path(tmp) / "out.mp4",
                                        rate=float(body.get("rate", 10)),
                                        scaling=(0.0, 1.0), size=(400, 300),
                                        progress=False)
            video = out.read_bytes()
    except (KeyError, ValueError, fastviz.FastvizError) as exc:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [f"error: {exc}\n".encode()]
    start_response("200 OK", [("Content-Type", "video/mp4"),
                              ("Content-Length", str(len(video)))])
    return [video]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    with make_server("127.0.0.1", 8000, app) as server:
        print("serving on http://127.0.0.1:8000")
        server.serve_forever()
