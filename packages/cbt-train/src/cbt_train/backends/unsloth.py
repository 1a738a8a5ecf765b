"""The unsloth backend: FastLanguageModel (4-bit on GPU), unsloth's gradient checkpointing,
and, for train.loss_on `assistant`, the loss on responses only via unsloth's
train_on_responses_only; for `all`, the loss on the whole text (padding excluded), as the
unsloth notebooks of the paper's time trained.

An optional extra (`uv sync --all-packages --extra unsloth`, or `pip install
'cbt-train[unsloth]'`), with a resolution of its own in uv.lock (unsloth caps torch,
transformers and trl below the default install's); imported only when chosen, and before
transformers/trl so its patches apply.
"""

from __future__ import annotations

from cbt_schema.params import TrainParams


def build(params: TrainParams, seed: int, base: str, template: str, train_rows: list[dict],
          test_rows: list[dict], sft_kwargs: dict, callbacks: list):
    import unsloth  # noqa: F401  (must come first: it patches transformers, peft and trl)
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer
    from unsloth import FastLanguageModel, is_bfloat16_supported
    from unsloth.chat_templates import train_on_responses_only

    from cbt_train.data import response_markers

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=base, max_seq_length=params.max_length, dtype=None,
        load_in_4bit=params.load_in_4bit)
    model = FastLanguageModel.get_peft_model(
        model, r=params.lora.r, lora_alpha=params.lora.alpha, lora_dropout=params.lora.dropout,
        target_modules=list(params.lora.target_modules), bias="none",
        use_gradient_checkpointing="unsloth" if params.gradient_checkpointing else False,
        random_state=seed)
    eos = tokenizer.eos_token or ""

    def as_text(rows: list[dict]) -> Dataset:
        texts = []
        for row in rows:
            text = tokenizer.apply_chat_template(row["messages"], chat_template=template,
                                                 tokenize=False)
            # end on the stop token, so trl does not append a second one after the newline
            texts.append(text.rstrip("\n") if eos and text.rstrip("\n").endswith(eos) else text)
        return Dataset.from_dict({"text": texts})

    import torch

    cuda = torch.cuda.is_available()
    bf16 = is_bfloat16_supported() if cuda else False
    config = SFTConfig(**sft_kwargs, dataset_text_field="text",
                       bf16=cuda and bf16, fp16=cuda and not bf16)
    trainer = SFTTrainer(model=model, args=config, processing_class=tokenizer,
                         train_dataset=as_text(train_rows), eval_dataset=as_text(test_rows),
                         callbacks=callbacks)
    if params.loss_on == "assistant":
        instruction, response = response_markers(tokenizer, template)
        trainer = train_on_responses_only(trainer, instruction_part=instruction,
                                          response_part=response)
    return trainer, tokenizer
