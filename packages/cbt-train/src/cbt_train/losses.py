"""Both loss definitions, `assistant` and `all`, measured on the same tokens in eval mode.

Whichever one `train.loss_on` trains on, both are reported, so a run can be set beside the
paper's numbers (which do not say which it used). Each example is tokenized as trl's SFTTrainer
tokenizes a conversation (the training chat template, `return_assistant_tokens_mask`, cut at
train.max_length from the start). A token's loss is the cross-entropy of predicting it from
the tokens before it, so the first token is never a target:

- `assistant`: the targets inside the template's `{% generation %}` spans, i.e. each assistant
  reply and its end-of-turn token (what trl's `assistant_only_loss=True` trains on);
- `all`: every target of the sequence: system prompt, user turn, role headers and replies
  (what `assistant_only_loss=False` trains on); padding never counts.

The mean is over tokens, as trl and transformers compute it: a batch's loss is the mean over
its target tokens; a split's is the mean of its batch losses (batches of train.eval_batch_size
in file order), weighted by their examples, which is how Trainer.evaluate reports eval_loss.
With the hf backend `losses[loss_on]` is therefore the trainer's own eval loss (to rounding);
unsloth tokenizes the rendered text and masks by turn markers, so it may differ slightly there.

This module is the one place that computes a token's loss (`example_losses`), over the
assistant tokens cbt_train.chat_template.encode finds: the train stage's loss metrics
(`both_losses`) and the evaluate stage's test loss (cbt_eval.predict.test_losses, through
`pooled_losses`) both come from it. The evaluate stage reports its own figure over them: the
mean over every target token of the split, one unpadded example at a time, uncut, with the
assistant tokens of each example's last reply running on to the end of the conversation
(`Encoded.reply_to_end`: what the template writes after the reply's end-of-turn token counts
too, as SmolLM2's newline does).
"""

from __future__ import annotations

from cbt_train.chat_template import Encoded

KINDS = ("assistant", "all")
Sums = dict[str, tuple[float, int]]  # kind -> (summed cross-entropy of its targets, count)


def example_losses(model, examples: list[Encoded], batch_size: int,
                   pad_id: int = 0) -> list[Sums]:
    """Each example's summed cross-entropy and number of targets, per kind, from `model` in
    eval mode on padded batches of `batch_size` (the model's mode is restored)."""
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[Sums] = []
    try:
        for start in range(0, len(examples), batch_size):
            batch = examples[start:start + batch_size]
            width = max(len(ex.ids) for ex in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, ex in enumerate(batch):
                ids[row, :len(ex.ids)] = torch.tensor(ex.ids)
                attention[row, :len(ex.ids)] = 1
            with torch.no_grad():
                logits = model(input_ids=ids.to(device), attention_mask=attention.to(device),
                               use_cache=False).logits
            for row, ex in enumerate(batch):
                n = len(ex.ids)
                nll = F.cross_entropy(logits[row, :n - 1].float(), ids[row, 1:n].to(device),
                                      reduction="none")
                masks = {"assistant": torch.tensor(ex.assistant[1:n], dtype=torch.bool,
                                                   device=device),
                         "all": torch.ones(n - 1, dtype=torch.bool, device=device)}
                out.append({kind: (float(nll[mask].sum()), int(mask.sum()))
                            for kind, mask in masks.items()})
            del logits
    finally:
        model.train(was_training)
    return out


def _pooled(sums: list[Sums], kind: str) -> tuple[float, int]:
    """The summed cross-entropy and count of `kind` over `sums`, added in order."""
    total, count = 0.0, 0
    for example in sums:
        total += example[kind][0]
        count += example[kind][1]
    return total, count


def split_losses(model, examples: list[Encoded], batch_size: int,
                 pad_id: int = 0) -> dict[str, float]:
    """{"assistant": loss, "all": loss} of `model` on one split (see the module docstring)."""
    sums = example_losses(model, examples, batch_size, pad_id)
    weighted = dict.fromkeys(KINDS, 0.0)
    for start in range(0, len(sums), batch_size):
        batch = sums[start:start + batch_size]
        for kind in KINDS:  # a batch without targets counts as 0, as trl's clamp does
            total, count = _pooled(batch, kind)
            weighted[kind] += len(batch) * total / max(count, 1)
    return {kind: weighted[kind] / len(examples) for kind in KINDS}


def pooled_losses(model, examples: list[Encoded]) -> dict[str, float | None]:
    """{"assistant": loss, "all": loss}: the mean over every target of the split, one
    unpadded example at a time; None for a kind with no targets."""
    sums = example_losses(model, examples, batch_size=1)
    out: dict[str, float | None] = {}
    for kind in KINDS:
        total, count = _pooled(sums, kind)
        out[kind] = total / count if count else None
    return out


def both_losses(trainer, encoded: dict[str, list[Encoded]]) -> dict[str, dict[str, float]]:
    """{"assistant": {"train": .., "test": ..}, "all": {...}} for the trainer's current model."""
    pad_id = trainer.processing_class.pad_token_id or 0
    by_split = {split: split_losses(trainer.model, examples, trainer.args.eval_batch_size,
                                    pad_id)
                for split, examples in encoded.items()}
    return {kind: {split: losses[kind] for split, losses in by_split.items()} for kind in KINDS}
