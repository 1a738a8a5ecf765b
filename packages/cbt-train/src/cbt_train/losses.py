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
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("assistant", "all")


@dataclass
class Encoded:
    """One example's token ids and its assistant-token mask (1 = an assistant token)."""

    ids: list[int]
    assistant: list[int]


def encode(conversations: list[dict], tokenizer, template: str, max_length: int) -> list[Encoded]:
    """Tokenize like trl does for conversational data and cut at max_length (keep the start)."""
    out = []
    for row in conversations:
        enc = tokenizer.apply_chat_template(row["messages"], chat_template=template,
                                            tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
        out.append(Encoded(list(enc["input_ids"][:max_length]),
                           list(enc["assistant_masks"][:max_length])))
    return out


def split_losses(model, examples: list[Encoded], batch_size: int,
                 pad_id: int = 0) -> dict[str, float]:
    """{"assistant": loss, "all": loss} of `model` on one split (see the module docstring)."""
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    weighted = dict.fromkeys(KINDS, 0.0)
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
            total, count = dict.fromkeys(KINDS, 0.0), dict.fromkeys(KINDS, 0)
            for row, ex in enumerate(batch):
                n = len(ex.ids)
                nll = F.cross_entropy(logits[row, :n - 1].float(), ids[row, 1:n].to(device),
                                      reduction="none")
                masks = {"assistant": torch.tensor(ex.assistant[1:n], dtype=torch.bool,
                                                   device=device),
                         "all": torch.ones(n - 1, dtype=torch.bool, device=device)}
                for kind, mask in masks.items():
                    total[kind] += float(nll[mask].sum())
                    count[kind] += int(mask.sum())
            del logits
            for kind in KINDS:  # a batch without targets counts as 0, as trl's clamp does
                weighted[kind] += len(batch) * total[kind] / max(count[kind], 1)
    finally:
        model.train(was_training)
    return {kind: weighted[kind] / len(examples) for kind in KINDS}


def both_losses(trainer, encoded: dict[str, list[Encoded]]) -> dict[str, dict[str, float]]:
    """{"assistant": {"train": .., "test": ..}, "all": {...}} for the trainer's current model."""
    pad_id = trainer.processing_class.pad_token_id or 0
    by_split = {split: split_losses(trainer.model, examples, trainer.args.eval_batch_size,
                                    pad_id)
                for split, examples in encoded.items()}
    return {kind: {split: losses[kind] for split, losses in by_split.items()} for kind in KINDS}
