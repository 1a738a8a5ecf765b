"""Third-party warnings a user of cbt can do nothing about, silenced where they arise.

    with known_library_warnings():
        model = PeftModel.from_pretrained(model, adapter)

Only the warnings named here, and only inside the block; everything else still shows.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# transformers 5.24 renamed the property `is_gradient_checkpointing` to
# `is_activation_checkpointing`; peft 0.21 (PeftModel, get_peft_model) and trl 1.16 still read
# the old name, so every adapter load would print a FutureWarning. The unsloth environment's
# transformers 5.17 has only the old name, so the libraries, not cbt, must move.
RENAMED_CHECKPOINTING = "`is_gradient_checkpointing` is deprecated"


@contextmanager
def known_library_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(RENAMED_CHECKPOINTING),
                                category=FutureWarning)
        yield
