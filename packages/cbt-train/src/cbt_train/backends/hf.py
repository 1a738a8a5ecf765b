"""The hf backend: transformers + peft LoraConfig + trl SFTTrainer.

The loss: trl's `assistant_only_loss=True` for train.loss_on `assistant` (the tokens inside
the template's `{% generation %}` spans), `False` for `all` (every token; padding is -100).

Runs anywhere: fp32 on CPU; bf16 (or fp16) on CUDA, with bitsandbytes 4-bit when
train.load_in_4bit is set.
"""

from __future__ import annotations

from cbt_schema.params import TrainParams


def build(params: TrainParams, seed: int, base: str, template: str, train_rows: list[dict],
          test_rows: list[dict], sft_kwargs: dict, callbacks: list):
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, set_seed
    from trl import SFTConfig, SFTTrainer

    from cbt_schema.quiet import known_library_warnings
    from cbt_train.distributed import local_rank

    cuda = torch.cuda.is_available()
    half = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
    dtype = half if cuda else torch.float32
    load: dict = {"dtype": dtype}
    if params.load_in_4bit:
        load["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=half,
            # FSDP shards parameters of one dtype: store the 4-bit weights in the half type
            **({"bnb_4bit_quant_storage": half} if params.distributed == "fsdp" else {}))
        if params.distributed != "fsdp":  # FSDP places the shards itself
            load["device_map"] = {"": local_rank()}  # each process its own GPU
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, **load)
    if params.load_in_4bit:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=params.gradient_checkpointing)
    set_seed(seed)  # LoRA's A matrices are random: seed right before they are made
    with known_library_warnings():
        model = get_peft_model(model, LoraConfig(
            r=params.lora.r, lora_alpha=params.lora.alpha, lora_dropout=params.lora.dropout,
            target_modules=_targets(params), bias="none", task_type="CAUSAL_LM"))
    tokenizer.chat_template = template
    config = SFTConfig(
        **sft_kwargs, assistant_only_loss=params.loss_on == "assistant",
        bf16=cuda and dtype == torch.bfloat16, fp16=cuda and dtype == torch.float16,
        use_cpu=not cuda)
    trainer_class = SFTTrainer if cuda else _cpu_trainer_class()
    trainer = trainer_class(model=model, args=config, processing_class=tokenizer,
                         train_dataset=Dataset.from_list(train_rows),
                         eval_dataset=Dataset.from_list(test_rows), callbacks=callbacks)
    return trainer, tokenizer


def _cpu_trainer_class():
    """SFTTrainer with the model's own loss.

    trl 1.15 (the unsloth environment's) computes the loss through a fused LM head whose
    kernel is written in triton and needs a GPU driver; on CPU the model's own cross-entropy
    (same labels, same averaging over the loss tokens of the whole accumulated batch) does the
    job. trl 1.16 (the default install's) has a torch fallback, but one CPU path serves both.
    """
    from transformers import Trainer
    from trl import SFTTrainer

    class CpuSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs["use_cache"] = False
            return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)

    return CpuSFTTrainer


def _targets(params: TrainParams) -> list[str] | str:
    targets = params.lora.target_modules
    return "all-linear" if targets == ["all-linear"] else list(targets)
