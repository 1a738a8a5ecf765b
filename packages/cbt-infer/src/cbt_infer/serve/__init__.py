"""`cbt-infer serve`: the student on this machine as a page, a JSON API and an
OpenAI-compatible endpoint, with the crisis screen in front of every generation.

    cli.py      the command: options, safe defaults, start-up (uvicorn)
    config.py   the settings one server runs with (limits, token, logging)
    engine.py   the models: loaded in the background, screened, one generation at a time
    inputs.py   request bodies read and checked (size, UTF-8, JSON, fields)
    events.py   server-sent events and the answer as cards while it streams
    app.py      the Starlette app: the page, /healthz, /v1/assess, the guard on every request
    chat.py     /v1/chat/completions and /v1/models (OpenAI's shapes)
    static/     the page (HTML, CSS, JavaScript; no build step, nothing from the network)

Starlette and uvicorn (the `serve` extra) are imported by app.py, chat.py and cli.py only, so
the rest of cbt-infer never needs them.
"""
