"""cbt-infer serve: a private page and API for the student, on this machine.

  cbt-infer serve                       # http://127.0.0.1:8000: the page, /v1/assess, /v1/chat
  cbt-infer serve --port 8080 --country GB
  CBT_SERVE_TOKEN=... cbt-infer serve --host 0.0.0.0 --allow-remote   # reachable from others

It listens at once and loads the models in the background (GET /healthz says "loading" until
they are ready). The student is the exported GGUF on llama.cpp (models/gguf/, no torch); the
crisis screen is keywords, then the learned probe (models/crisis_probe.json): likely risk is
answered with crisis resources and no model call, possible risk with the resources first.

Safe by default: it binds 127.0.0.1 and answers only requests for localhost. Another address
needs --allow-remote and a token (--token or $CBT_SERVE_TOKEN), checked on every request.
Bodies, texts and the queue are bounded; nothing a person writes is logged or stored unless
--log-content. Ctrl-C or SIGTERM lets the answers being written finish, then exits.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from cbt_schema import logs

log = logging.getLogger(__name__)
INSTALL_HINT = ("cbt-infer serve needs the optional extras: pip install 'cbt-infer[serve,llama]'"
                " (or `uv sync --extra serve --extra llama`)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cbt-infer serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_argument_group("where it listens")
    net.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; "
                     "any other needs --allow-remote and a token)")
    net.add_argument("--port", type=int, default=8000)
    net.add_argument("--allow-remote", action="store_true", help="allow a --host that other "
                     "machines can reach")
    net.add_argument("--token", help="required on every request as `Authorization: Bearer "
                     "TOKEN` (default $CBT_SERVE_TOKEN; needed with --allow-remote)")
    model = p.add_argument_group("the models (as cbt-infer)")
    model.add_argument("--gguf", help="GGUF student (default models/gguf/cbt-student-q4_k_m.gguf)")
    model.add_argument("--lora-gguf", help="LoRA GGUF applied on top of --gguf")
    model.add_argument("--system-prompt", type=Path, help="system prompt file (default: the "
                       "one the model carries)")
    model.add_argument("--crisis-probe", type=Path, help="learned crisis screen (default "
                       "$CBT_CRISIS_PROBE or models/crisis_probe.json)")
    model.add_argument("--no-crisis-probe", action="store_true",
                       help="screen with keywords only")
    model.add_argument("--country", help="default crisis lines (ISO code; the page can pick "
                       "another; default $CBT_COUNTRY)")
    model.add_argument("--crisis-resources", type=Path, help="JSON file with the crisis "
                       "message and resources (replaces the built-in lists)")
    model.add_argument("--max-new-tokens", type=int, default=384)
    model.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    model.add_argument("--n-ctx", type=int, default=4096, help="llama.cpp context window")
    model.add_argument("--threads", type=int, help="llama.cpp threads (default: all cores)")
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-chars", type=int, default=4000,
                     help="longest text one answer is asked about (default 4000 characters)")
    lim.add_argument("--max-body", type=int, default=64 * 1024,
                     help="largest request body in bytes (default 65536)")
    lim.add_argument("--queue", type=int, default=4, help="requests that may wait while an "
                     "answer is written; more are told 429 (default 4)")
    lim.add_argument("--drain-seconds", type=float, default=60.0, help="on Ctrl-C or SIGTERM, "
                     "how long answers being written may take to finish (default 60)")
    p.add_argument("--log-content", action="store_true", help="log what people write and the "
                   "answers (off by default: only method, path, status and time are logged)")
    logs.add_verbosity(p)
    return p


def check(args: argparse.Namespace):
    """The options, checked before anything loads: a config, or UserError naming the fix."""
    from cbt_infer.serve.config import TOKEN_ENV, ServeConfig, is_loopback
    from cbt_schema.errors import UserError

    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host):
        if not args.allow_remote:
            raise UserError(f"--host {args.host} is reachable from other machines: add "
                            "--allow-remote (and a token) if that is what you want")
        if not token:
            raise UserError(f"--host {args.host}: a token is required beyond this machine: "
                            f"--token TOKEN or ${TOKEN_ENV}")
    if args.crisis_probe is not None and args.no_crisis_probe:
        raise UserError("--crisis-probe and --no-crisis-probe do not mix: choose one")
    for name in ("max_new_tokens", "max_chars", "max_body", "port"):
        if getattr(args, name) < (0 if name == "port" else 1):
            raise UserError(f"--{name.replace('_', '-')}: must be positive")
    if args.queue < 0:
        raise UserError("--queue: must be 0 or more")
    if args.port > 65535:
        raise UserError(f"--port {args.port}: a port is 0 to 65535")
    return ServeConfig(host=args.host, port=args.port, token=token, max_body=args.max_body,
                       max_chars=args.max_chars, queue=args.queue,
                       max_new_tokens=args.max_new_tokens, log_content=args.log_content)


def loader(args: argparse.Namespace):
    """What the engine loads in the background, and what it names meanwhile. The paths are
    checked now, so a missing model or probe fails before the server starts."""
    from cbt_infer.assessor import Assessor, CrisisPolicy
    from cbt_infer.backend_hf import Settings
    from cbt_infer.choose import choose, has_module
    from cbt_schema.errors import UserError

    if not has_module("llama_cpp"):
        raise UserError(INSTALL_HINT)
    choice = choose("llama", gguf=args.gguf)  # the torch-free student, never transformers
    probe = False if args.no_crisis_probe else args.crisis_probe or True
    policy = CrisisPolicy(probe, args.crisis_resources, args.country).load()
    settings = Settings(max_new_tokens=args.max_new_tokens, temperature=args.temperature)

    def load() -> Assessor:
        return Assessor.from_pretrained(
            gguf=choice.gguf, lora_gguf=args.lora_gguf, backend="llama",
            system_prompt=args.system_prompt, crisis_resources=args.crisis_resources,
            crisis_probe=policy.screen.probe or False, country=args.country,
            settings=settings, n_ctx=args.n_ctx, n_threads=args.threads)

    describe = {"backend": "llama", "student": str(choice.gguf), "screen": policy.screen.active}
    return load, describe


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    logs.configure(args)
    from cbt_schema.errors import UserError

    config = check(args)
    try:
        import uvicorn

        from cbt_infer.serve.app import build_app
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    from cbt_infer.serve.engine import Engine

    load, describe = loader(args)
    engine = Engine(load, describe, queue=config.queue, country=args.country,
                    crisis_resources=args.crisis_resources)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            # uvicorn raises the signal again once it has drained; drained is a clean exit
            self._captured_signals.clear()

    server = Server(uvicorn.Config(
        build_app(engine, config), host=config.host, port=config.port, access_log=False,
        log_level="warning", timeout_graceful_shutdown=args.drain_seconds, lifespan="on"))
    where = f"[{config.host}]" if ":" in config.host else config.host
    log.info("cbt-infer serve: http://%s:%d (loading the models; /healthz says when ready)",
             where, config.port)
    server.run()
    log.info("cbt-infer serve: stopped")
    return 0
