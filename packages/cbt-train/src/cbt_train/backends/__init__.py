"""Training backends. Each builds a ready trl SFTTrainer from the same inputs:

    build(params, seed, base, template, train_rows, test_rows, sft_kwargs, callbacks)
        -> (trainer, tokenizer)

`train_rows`/`test_rows` are conversational records ({"messages": [...]}), `template` the
training chat template (with `{% generation %}` markers), `sft_kwargs` the SFTConfig settings
both backends share. Only model loading, LoRA wrapping and loss masking differ.
"""
