"""cbt-infer: assess a situation with the fine-tuned student, privately on this machine.

  cbt-infer "I failed my driving test again, I'm useless"
  echo "..." | cbt-infer --json                 # structured Assessment as JSON
  cbt-infer --stream --file situation.txt
  cbt-infer --backend transformers "..."        # base + adapter on torch (cbt-infer[transformers])
  cbt-infer export --out models/gguf            # GGUF + LoRA GGUF + Ollama Modelfile
  cbt-infer crisis-probe --help                 # train the crisis screen's learned stage
  cbt-infer serve                               # a private page and API on 127.0.0.1:8000

With no situation on a terminal it asks for one, loading the models while you type.

Crisis screen (the same as the Python API's): keywords, then the learned probe
(models/crisis_probe.json or $CBT_CRISIS_PROBE; missing is an error, --no-crisis-probe turns it
off). Likely risk gets crisis resources only; possible risk gets them first, then the
analysis. --country (or $CBT_COUNTRY) picks the crisis lines.

The student: by default the exported GGUF (models/gguf/) on llama.cpp, torch-free, when it
exists and cbt-infer[llama] is installed; else models/base + models/adapter on transformers.
It is asked with the system prompt it was trained on, which the model carries; an explicit
--system-prompt that differs is said on stderr. Decoding is greedy by default.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from cbt_schema import logs

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cbt-infer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("situation", nargs="?", help="what happened and how you feel (or use --file "
                   "or standard input)")
    p.add_argument("--file", type=Path, help="read the situation from this text file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    p.add_argument("--backend", choices=["auto", "llama", "transformers"], default="auto",
                   help="auto (default): the exported GGUF on llama.cpp when there is one, else "
                   "transformers")
    p.add_argument("--base", help="base or merged model folder (default models/base)")
    p.add_argument("--adapter", help="peft LoRA adapter folder (default models/adapter if any)")
    p.add_argument("--gguf", help="GGUF file (default models/gguf/cbt-student-q4_k_m.gguf)")
    p.add_argument("--lora-gguf", help="LoRA GGUF applied on top of --gguf")
    p.add_argument("--max-new-tokens", type=int, default=384)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--repetition-penalty", type=float, default=1.0)
    p.add_argument("--seed", type=int, help="seed for sampling (with --temperature > 0)")
    p.add_argument("--system-prompt", type=Path, help="system prompt file (default: the one "
                   "the model was trained with, which it carries)")
    p.add_argument("--crisis-probe", type=Path, help="learned crisis screen (default "
                   "$CBT_CRISIS_PROBE or models/crisis_probe.json)")
    p.add_argument("--no-crisis-probe", action="store_true", help="screen with keywords only")
    p.add_argument("--country", help="crisis lines for this country (ISO code: US, GB, IE, CA, "
                   "AU, IN, DE, FR; default $CBT_COUNTRY, else international)")
    p.add_argument("--crisis-resources", type=Path, help="JSON file with the crisis message "
                   "and resources (replaces the built-in lists)")
    logs.add_verbosity(p)
    return p


def _read_situation(args: argparse.Namespace) -> str:
    from cbt_schema.errors import UserError

    if args.situation is not None and args.file is not None:
        raise UserError("give the situation either as an argument or with --file, not both")
    if args.file is not None:
        if not args.file.is_file():
            raise UserError(f"{args.file}: file not found")
        return args.file.read_text(encoding="utf-8")
    if args.situation is not None:
        return args.situation
    return sys.stdin.read()


def _ask() -> str:
    """Ask on the terminal; an empty line ends the text."""
    print("Describe what happened and how you feel (an empty line to finish):", file=sys.stderr)
    lines = []
    try:
        while (line := input()).strip() or not lines:
            lines.append(line)
    except EOFError:
        pass
    return "\n".join(lines)


def _load(args: argparse.Namespace, policy):
    from cbt_infer.assessor import Assessor
    from cbt_infer.backend_hf import Settings

    settings = Settings(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                        repetition_penalty=args.repetition_penalty, seed=args.seed)
    assessor = Assessor.from_pretrained(
        args.base, args.adapter, gguf=args.gguf, lora_gguf=args.lora_gguf, backend=args.backend,
        system_prompt=args.system_prompt, crisis_resources=policy.resources, settings=settings,
        crisis_probe=policy.screen.probe or False)
    log.info("cbt-infer: answering with %s (%s)", assessor.backend.description,
             assessor.backend.name)
    return assessor


def _style(code: str, text: str) -> str:
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return f"\033[{code}m{text}\033[0m"
    return text


NOT_YOURS = "(not your words)"
NOT_YOURS_NOTE = (f"{NOT_YOURS}: this thought is not in what you wrote; it is the model's guess "
                  "at what you might be thinking, so take it only if it fits.")


def format_text(result) -> str:
    """A readable terminal rendering of an AssessResult."""
    import shutil
    import textwrap

    width = min(shutil.get_terminal_size((88, 20)).columns, 100)

    def wrap(text: str, indent: str = "", first: str | None = None) -> str:
        return "\n".join(textwrap.fill(para, width, initial_indent=first or indent,
                                       subsequent_indent=indent) if para.strip() else ""
                         for para in text.split("\n"))

    notice = _style("2", wrap(result.notice)) if result.notice else ""
    if result.crisis:
        return wrap(result.message)
    lead = wrap(result.crisis_resources) + "\n\n" if result.crisis_resources else ""
    if not result.parsed or result.assessment is None:
        return lead + wrap(result.raw) + ("\n\n" + notice if notice else "")
    a = result.assessment
    parts = [lead + wrap(a.validation), "", _style("1", "Possible thought distortions")]
    if not a.findings:
        parts.append("  None stand out in what you described.")
    invented = [i < len(result.quote_found) and not result.quote_found[i]
                 for i in range(len(a.findings))]
    for n, f in enumerate(a.findings, 1):
        parts.append(_style("1", f"  {n}. {f.distortion.title}"))
        mark = f" {NOT_YOURS}" if invented[n - 1] else ""
        parts.append(wrap(f'"{f.thought}"{mark}', " " * 16, "     Thought:   "))
        parts.append(wrap(f.challenge, " " * 16, "     Challenge: "))
    if any(invented):
        parts += ["", _style("2", wrap(NOT_YOURS_NOTE, "  "))]
    parts += ["", wrap(a.closing), "", notice]
    return "\n".join(parts)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["crisis-probe"]:
        from cbt_infer.probe_cli import main as probe_main

        return probe_main(argv[1:])
    if argv[:1] == ["export"]:
        from cbt_infer.export import main as export_main

        return export_main(argv[1:])
    if argv[:1] == ["serve"]:
        from cbt_infer.serve.cli import main as serve_main

        return serve_main(argv[1:])
    args = _parser().parse_args(argv)  # --help exits here, before pydantic is imported
    logs.configure(args)
    from cbt_schema.errors import UserError

    if args.stream and args.json:
        raise UserError("--stream and --json do not mix: choose one")
    if args.crisis_probe is not None and args.no_crisis_probe:
        raise UserError("--crisis-probe and --no-crisis-probe do not mix: choose one")
    if args.max_new_tokens < 1:
        raise UserError(f"--max-new-tokens: must be at least 1 (got {args.max_new_tokens})")
    from cbt_infer.assessor import CrisisPolicy

    probe = False if args.no_crisis_probe else args.crisis_probe or True
    policy = CrisisPolicy(probe, args.crisis_resources, args.country)
    interactive = args.situation is None and args.file is None and sys.stdin.isatty()
    pending = None
    if interactive:  # a missing probe fails before the person types; the models load meanwhile
        policy.load()
        pending = _Background(lambda: _load(args, policy))
        situation = _ask()
    else:
        situation = _read_situation(args)
    if not situation.strip():
        raise UserError("the situation is empty: describe what happened and how you feel")
    # Likely risk needs no student: the policy answers it before one loads (from keywords
    # before any model file is read). The probe scores only after a loading in the
    # background has ended: one model at a time.
    crisis = policy.crisis_answer(situation, before_probe=pending.settle if pending else None)
    if crisis is not None:
        _show(args, crisis)
        if pending is not None:
            pending.settle()  # shown at once; then let the loading end quietly before exit
        return 0
    assessor = pending() if pending is not None else _load(args, policy)
    if args.stream:
        stream = assessor.stream(situation)
        for chunk in stream:
            print(chunk, end="", flush=True)
        print()
        result = stream.result
    else:
        result = assessor.assess(situation)
        _show(args, result)
    if result is not None and not result.crisis and not result.parsed:
        log.warning("cbt-infer: note: the answer could not be read as a structured "
                    "assessment (%s)", "; ".join(result.problems))
    if assessor.crisis_screen.probe is None:
        log.warning("cbt-infer: note: crisis screen: %s", assessor.crisis_screen.active)
    return 0


def _show(args: argparse.Namespace, result) -> None:
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_text(result))


class _Background:
    """work() in a daemon thread; call the object to wait for its result (or its error)."""

    def __init__(self, work) -> None:
        import threading

        self._box: dict = {}
        self._thread = threading.Thread(target=self._run, args=(work,), name="cbt-infer-load",
                                        daemon=True)
        self._thread.start()

    def _run(self, work) -> None:
        try:
            self._box["value"] = work()
        except BaseException as exc:
            self._box["error"] = exc

    def settle(self) -> None:
        self._thread.join()

    def __call__(self):
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:2]):  # fast path: no pydantic for the help text
        _parser().print_help()
        raise SystemExit(0)
    from cbt_schema.errors import run_cli

    raise SystemExit(run_cli("cbt-infer", _main))
