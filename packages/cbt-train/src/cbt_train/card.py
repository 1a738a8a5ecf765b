"""models/adapter/: the LoRA weights, the tokenizer and a model card (README.md).

The card holds results only (losses to 3 decimals), no speed or time: those go to
timings/train.json, so equal weights give an equal card and an equal models/adapter hash.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml

from cbt_schema import ChatExample
from cbt_schema.atomic import atomic_dir
from cbt_schema.params import TrainParams
from cbt_schema.student import StudentTask

NOTICE = ("cbt is a research and self-help tool. It is not a substitute for a therapist. If "
          "you are thinking about harming yourself, contact a crisis line or emergency "
          "services now.")
LOSS_ON = {"assistant": "the assistant's reply only", "all": "the whole sequence"}


def trained_task(examples: list[ChatExample], chat_template: str | None) -> StudentTask:
    """The task the student learns: the training examples' system prompt (the most common one,
    should they differ), the answer format and the model's own chat template."""
    prompts = Counter(m.content for ex in examples for m in ex.messages if m.role == "system")
    prompt = prompts.most_common(1)[0][0] if prompts else ""
    return StudentTask(prompt, chat_template=chat_template, source="training examples")


def write_adapter(model, tokenizer, task: StudentTask, out: Path, params: TrainParams,
                  seed: int, data: dict[str, str], metrics: dict) -> None:
    """Save adapter + tokenizer (with the model's own chat template) + the student's task
    (student_task.json, which inference reads) + card, atomically."""
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        stable_adapter_config(tmp / "adapter_config.json")
        tokenizer.chat_template = task.chat_template
        tokenizer.save_pretrained(tmp)
        task.write(tmp)
        (tmp / "README.md").write_text(model_card(params, seed, data, metrics),
                                       encoding="utf-8")


def stable_adapter_config(path: Path) -> None:
    """peft writes target_modules from a set, in an order that changes from process to
    process (string hashing is salted): sorted, equal training gives an equal adapter folder
    and an equal models/adapter hash."""
    config = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    path.write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")


def model_card(params: TrainParams, seed: int, data: dict[str, str], metrics: dict) -> str:
    front = {"base_model": params.base_model, "library_name": "peft", "license": "apache-2.0",
             "pipeline_tag": "text-generation", "tags": ["lora", "cbt", "trl", "sft"]}
    versions = _versions()
    loss_on = metrics.get("loss_on", params.loss_on)
    both = metrics.get("losses", {})
    rows = [("backend", metrics.get("backend")), ("device", metrics.get("device")),
            ("steps / epochs", f"{metrics.get('steps')} / {metrics.get('epochs')}"),
            ("loss on", LOSS_ON[loss_on]),
            ("train loss (before -> after)",
             f"{metrics['initial_train_loss']:.3f} -> {metrics['final_train_loss']:.3f}"),
            ("test loss (before -> after)",
             f"{metrics['initial_test_loss']:.3f} -> {metrics['final_test_loss']:.3f}"),
            *((f"test loss on {LOSS_ON[kind]} (before -> after)",
               f"{both[kind]['initial_test']:.3f} -> {both[kind]['final_test']:.3f}")
              for kind in ("assistant", "all") if kind in both)]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    settings = yaml.safe_dump({"seed": seed, "train": params.model_dump(mode="json")},
                              sort_keys=False)
    return (
        f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n\n"
        f"# cbt student adapter\n\n"
        f"A LoRA adapter for `{params.base_model}` that reads a person's description of a "
        f"difficult situation and answers with a validating opening, the thought distortions "
        f"it sees (each with the thought in the person's words and a challenge) and an "
        f"encouraging close. Trained by cbt-train on teacher-written examples, with the loss "
        f"on {LOSS_ON[loss_on]}.\n\n> {NOTICE}\n\n"
        f"## Data\n\n| split | sha256 | examples |\n|---|---|---|\n"
        f"| train | `{data['train']}` | {metrics['examples']['train']} |\n"
        f"| test | `{data['test']}` | {metrics['examples']['test']} |\n\n"
        f"## Results\n\n| | |\n|---|---|\n{table}\n\n"
        f"## Settings\n\n```yaml\n{settings}```\n\n"
        f"## Software\n\n```json\n{json.dumps(versions, indent=2)}\n```\n\n"
        f"## Use\n\n```python\nfrom peft import AutoPeftModelForCausalLM\n"
        f"from transformers import AutoTokenizer\n\n"
        f"model = AutoPeftModelForCausalLM.from_pretrained(\"models/adapter\")\n"
        f"tokenizer = AutoTokenizer.from_pretrained(\"models/adapter\")\n```\n"
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "transformers", "peft", "trl", "unsloth", "cbt-train"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
