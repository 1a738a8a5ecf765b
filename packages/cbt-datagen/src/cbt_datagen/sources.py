"""Where a stage's records come from: a teacher model behind its provider, or an import.

    source = open_source(params)                  # nothing made, checked or read yet
    source.write(events, args, args.seeds)        # a task module of cbt_datagen.tasks

teacher.provider names the source, and this module is the one that reads it. `file` is the
import source: the rows of an existing dataset (teacher.file) become the events and the
assessments (cbt_datagen.importing), and nothing is asked. Every other value names a teacher
provider; what each one is (its class, whether it samples with a seed, whether it is billed at
the batch discount, whether it decodes against a tightened schema) is the table PROVIDERS. A
provider is made when the stage runs, after the inputs are read and the model and its price are
checked, so a missing key or model stops the run before the first request.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cbt_schema import UserError
from cbt_schema.params import PipelineParams, TeacherParams

if TYPE_CHECKING:
    from cbt_datagen.engine import StageResult
    from cbt_datagen.providers.base import Provider
    from cbt_datagen.tasks.base import Task

IMPORT = "file"  # teacher.provider of the import source
RUN_FACTS = ("resumed", "this_run")  # what a run did, which depends on the log's history


class TaskModule(Protocol):
    """A module of cbt_datagen.tasks, as a source uses it."""

    NAME: str

    def read_inputs(self, path: str) -> Sequence[Any]: ...

    def make(self, params: PipelineParams, inputs: Sequence[Any]
             ) -> tuple[Task, list[tuple[str, str]]]: ...


def imports(teacher: TeacherParams) -> bool:
    """Whether teacher.provider names the import source rather than a model to ask."""
    return teacher.provider == IMPORT


def open_source(params: PipelineParams) -> ImportSource | TeacherSource:
    """The source teacher.provider names; see the module docstring."""
    return ImportSource(params) if imports(params.teacher) else TeacherSource(params)


class ImportSource:
    """The rows of an existing dataset (teacher.file) stand in for the teacher."""

    def __init__(self, params: PipelineParams) -> None:
        self.params = params

    def write(self, stage: TaskModule, args: argparse.Namespace, inputs: str) -> int:
        from cbt_datagen.importing import records

        importer = {"events": records.import_events,
                    "assessments": records.import_assessments}[stage.NAME]
        return importer(args, self.params)


@dataclass(frozen=True)
class Kind:
    """What the factory knows of one provider."""

    make: Callable[[TeacherParams, int, Path], Provider]
    sampled: bool          # takes temperature, top_p, repetition penalty and a seed
    batch: bool = False    # billed at the Message Batches discount
    bounded: bool = False  # decodes against the reply schema tightened to max_tokens


def _anthropic(teacher: TeacherParams, seed: int, state_dir: Path) -> Provider:
    from cbt_datagen.providers.anthropic import AnthropicProvider

    return AnthropicProvider(teacher)


def _anthropic_batch(teacher: TeacherParams, seed: int, state_dir: Path) -> Provider:
    from cbt_datagen.providers.anthropic_batch import AnthropicBatchProvider

    poll_s = float(os.environ.get("CBT_BATCH_POLL_S", "30"))  # tests poll faster
    return AnthropicBatchProvider(teacher, state_dir=state_dir, poll_s=poll_s)


def _openai_compatible(teacher: TeacherParams, seed: int, state_dir: Path) -> Provider:
    from cbt_datagen.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(teacher, seed=seed)


def _local(teacher: TeacherParams, seed: int, state_dir: Path) -> Provider:
    try:
        from cbt_datagen.providers import local
    except ImportError as exc:
        raise UserError(f"teacher.provider local is not available: {exc} (install "
                        "cbt-datagen[local], or pick another teacher.provider)") from None
    return local.make_provider(teacher, seed=seed)


PROVIDERS = {
    "anthropic": Kind(_anthropic, sampled=False),
    "anthropic-batch": Kind(_anthropic_batch, sampled=False, batch=True),
    "openai-compatible": Kind(_openai_compatible, sampled=True),
    "local": Kind(_local, sampled=True, bounded=True),
}


class TeacherSource:
    """A teacher model behind the provider teacher.provider names."""

    def __init__(self, params: PipelineParams) -> None:
        self.params, self.teacher = params, params.teacher
        if self.teacher.provider not in PROVIDERS:
            raise UserError(f"params.yaml: teacher.provider: unknown provider "
                            f"{self.teacher.provider!r}")
        self.kind = PROVIDERS[self.teacher.provider]
        self.batch = self.kind.batch

    def provider(self, state_dir: str | Path) -> Provider:
        """The teacher for this run. Raises UserError (before any request) when it cannot
        start: a missing API key, a missing base_url, the local provider not installed."""
        return self.kind.make(self.teacher, self.params.base.seed, Path(state_dir))

    def key_params(self, max_tokens: int) -> dict[str, Any]:
        """The settings that change what this teacher writes, so they go into every request
        id (Anthropic takes no sampling parameters; thinking and effort change its reply)."""
        t = self.teacher
        keys: dict[str, Any] = {"max_tokens": max_tokens}
        if self.kind.sampled:
            return keys | {"temperature": t.temperature, "top_p": t.top_p,
                           "repetition_penalty": t.repetition_penalty,
                           "seed": self.params.base.seed}
        keys |= {"thinking": t.thinking, "effort": t.effort}
        if t.thinking == "adaptive":
            keys["thinking_max_tokens"] = t.thinking_max_tokens
        return keys

    def decoded_schema(self, task: Task) -> dict[str, Any]:
        """The schema the replies were bounded by: the local teacher's tightened copy (its
        strings end at these maxLengths), else the reply model's own."""
        from cbt_datagen.prompts import schema_for

        schema = schema_for(task.reply_model)
        if self.kind.bounded:
            from cbt_datagen.providers.local import fit_schema

            return fit_schema(schema, task.max_tokens)
        return schema

    def write(self, stage: TaskModule, args: argparse.Namespace, inputs: str) -> int:
        """Read the inputs, check the model and its price, ask the teacher, write the files."""
        from cbt_datagen.engine import run_stage
        from cbt_datagen.model_table import check_model, price_for

        given = stage.read_inputs(inputs)
        check_model(self.teacher, source=args.params)
        price = price_for(self.teacher.model, self.teacher.prices, source=args.params)
        task, items = stage.make(self.params, given)
        if args.limit is not None:
            items = items[: max(0, args.limit) * task.samples]
        task = replace(task, key_params={**self.key_params(task.max_tokens), **task.key_params})
        work_dir = Path(args.work_dir)
        result = run_stage(self.provider(work_dir), task, items,
                           work_path=work_dir / f"{task.name}.jsonl",
                           max_attempts=self.teacher.max_attempts, price=price,
                           batch=self.batch, progress=not args.no_progress)
        write_generated(args, task, result, self.decoded_schema(task))
        if result.quarantined_fraction > self.teacher.max_quarantined_fraction:
            from cbt_datagen.outputs import TooManyQuarantined

            m = result.metrics
            raise TooManyQuarantined(
                f"{m['quarantined']} of {m['requested']} {task.name} quarantined "
                f"({result.quarantined_fraction:.0%} > teacher.max_quarantined_fraction "
                f"{self.teacher.max_quarantined_fraction:.0%}); see {args.quarantine}")
        return 0


def write_generated(args: argparse.Namespace, task: Task, result: StageResult,
                    decoded: dict[str, Any]) -> None:
    """The records (after the task's consensus), the quarantine, the metrics with the task's
    quality rates, and the run's timings (timings/<stage>.json); one line on stdout."""
    from cbt_datagen.outputs import with_earlier_stages
    from cbt_schema.jsonl import write_json, write_jsonl
    from cbt_schema.timings import write_timings

    records, consensus = (task.finish(result.records) if task.finish
                          else (result.records, None))
    write_jsonl(args.out, records)
    write_jsonl(args.quarantine, result.quarantined)
    # what this run did (replies resumed from the log, replies paid now) depends on the log's
    # history, not on the records: a timing, so a fresh clone writes the same metrics
    made = {k: v for k, v in result.metrics.items() if k not in RUN_FACTS}
    metrics = {**made, "quality": task.quality(result.records, decoded) if task.quality else {}}
    if consensus is not None:
        metrics["consensus"] = consensus
    write_json(args.metrics, with_earlier_stages({task.name: metrics},
                                                 getattr(args, "earlier_metrics", None)))
    write_timings(task.name, {**result.timings,
                              **{k: result.metrics[k] for k in RUN_FACTS}})
    m = result.metrics
    merged = f" (merged into {len(records)})" if consensus is not None else ""
    print(f"{task.name}: {m['succeeded']}{merged} written to {args.out} ({m['resumed']} "
          f"resumed, {m['repaired']} repaired), {m['quarantined']} quarantined to "
          f"{args.quarantine}, ${m['cost_usd']:.4f}")
