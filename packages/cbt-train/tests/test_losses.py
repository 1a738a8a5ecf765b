"""train.loss_on: what the trainer optimises, which tokens each reported loss covers, params."""

from __future__ import annotations

from pathlib import Path

import pytest

from cbt_schema import UserError
from cbt_schema.params import load_params
from cbt_testing.training import make_examples
from cbt_train.chat_template import Encoded, encode, training_template
from cbt_train.losses import split_losses
from cbt_train.train import run_training, sft_kwargs

KEYS = ("initial_train", "final_train", "initial_test", "final_test")
REPLY = "That sounds hard.\n\nYou are doing well."


def _tokenizer(base: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    return tokenizer, training_template(tokenizer, str(base))


def test_loss_on_all_trains_the_whole_sequence_and_reports_both(tiny_params,
                                                                 train_paths) -> None:
    metrics = run_training(tiny_params(loss_on="all"), seed=7, paths=train_paths)
    losses = metrics["losses"]
    assert metrics["loss_on"] == "all" and set(losses) == {"assistant", "all"}
    assert all(set(losses[kind]) == set(KEYS) for kind in losses)
    # the trainer's own eval loss (same labels as it trains on) is the all-token loss
    for key in KEYS:
        assert losses["all"][key] == pytest.approx(metrics[f"{key}_loss"], abs=1e-5), key
    assert losses["all"]["final_train"] < losses["all"]["initial_train"]
    card = (train_paths.out / "README.md").read_text()
    assert "with the loss on the whole sequence." in card
    assert "| test loss on the assistant's reply only (before -> after) |" in card
    assert "| test loss on the whole sequence (before -> after) |" in card


@pytest.mark.parametrize("loss_on", ["assistant", "all"])
def test_hf_trainer_labels_follow_loss_on(tiny_params, tiny_base: Path, tmp_path: Path,
                                          loss_on: str) -> None:
    """trl's labels are the assistant mask of cbt_train.losses, or every token."""
    from cbt_train.backends.hf import build

    params = tiny_params(loss_on=loss_on)
    tokenizer, template = _tokenizer(tiny_base)
    rows = [{"messages": [m.model_dump() for m in ex.messages]} for ex in make_examples(3)]
    trainer, _ = build(params, 0, str(tiny_base), template, rows, rows[:1],
                       sft_kwargs(params, 0, tmp_path / "ck"), [])
    assert trainer.args.assistant_only_loss is (loss_on == "assistant")
    for ex, row in zip(encode(rows, tokenizer, template, params.max_length),
                       trainer.train_dataset, strict=True):
        assert row["input_ids"] == ex.ids
        expected = [t if m or loss_on == "all" else -100
                    for t, m in zip(ex.ids, ex.assistant, strict=True)]
        assert row["labels"] == expected


def _manual(model, ex: Encoded) -> tuple[float, int, float, int]:
    """Summed cross-entropy and count over (assistant targets, all targets), one unpadded row."""
    import torch

    ids = torch.tensor([ex.ids])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    nll = -logp.gather(1, ids[0, 1:, None])[:, 0]
    mask = torch.tensor(ex.assistant[1:], dtype=torch.bool)
    return float(nll[mask].sum()), int(mask.sum()), float(nll.sum()), len(ex.ids) - 1


def test_each_loss_covers_its_tokens(tiny_base: Path) -> None:
    from transformers import AutoModelForCausalLM

    tokenizer, template = _tokenizer(tiny_base)
    rows = [{"messages": [{"role": "system", "content": "Be kind."},
                          {"role": "user", "content": "I failed my driving test."},
                          {"role": "assistant", "content": REPLY}]},
            {"messages": [{"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello."}]}]
    examples = encode(rows, tokenizer, template, 1024)
    long, short = examples
    assert len(long.ids) > len(short.ids)  # so batching pads the short one
    reply = [t for t, m in zip(long.ids, long.assistant, strict=True) if m]
    assert tokenizer.decode(reply) == REPLY + "<|im_end|>"
    assert tokenizer.decode(long.ids) == tokenizer.apply_chat_template(
        rows[0]["messages"], chat_template=template, tokenize=False)

    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    model.train()
    parts = [_manual(model, ex) for ex in examples]
    # one batch of two (padded): the mean over every target token of the batch
    both = split_losses(model, examples, batch_size=2, pad_id=tokenizer.pad_token_id)
    assert model.training  # left as it was
    assert both["assistant"] == pytest.approx(
        sum(p[0] for p in parts) / sum(p[1] for p in parts), rel=1e-5)
    assert both["all"] == pytest.approx(
        sum(p[2] for p in parts) / sum(p[3] for p in parts), rel=1e-5)
    # batches of one: the mean of the per-example means
    single = split_losses(model, examples, batch_size=1)
    assert single["assistant"] == pytest.approx(sum(p[0] / p[1] for p in parts) / 2, rel=1e-5)
    assert single["all"] == pytest.approx(sum(p[2] / p[3] for p in parts) / 2, rel=1e-5)


def test_token_counts_are_the_loss_tokens(tiny_base: Path, tmp_path: Path) -> None:
    """The train stage's counts (metrics tokens.train, train_assistant) are encode's tokens."""
    from cbt_schema.jsonl import write_jsonl
    from cbt_train.data import load_split, measure

    tokenizer, template = _tokenizer(tiny_base)
    write_jsonl(tmp_path / "train.jsonl", make_examples(3))
    split = load_split(tmp_path / "train.jsonl", "train")
    measure(split, tokenizer, template, max_length=80)
    encoded = encode(split.conversations(), tokenizer, template, 80)
    assert split.tokens == sum(len(ex.ids) for ex in encoded) == 3 * 80  # each one cut
    assert split.trained_tokens == sum(sum(ex.assistant) for ex in encoded) > 0


def test_loss_on_rejects_other_values(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  loss_on: reply\n")
    with pytest.raises(UserError, match=r"train\.loss_on: Input should be 'assistant' or 'all'"):
        load_params(path)
    path.write_text("train:\n  loss_on: all\n")
    assert load_params(path).train.loss_on == "all"
