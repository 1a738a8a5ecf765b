"""Make the provider named by teacher.provider; SDKs and models are imported only when used."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from cbt_datagen.providers.base import Provider
from cbt_schema import UserError
from cbt_schema.params import TeacherParams


def make_provider(teacher: TeacherParams, *, seed: int, state_dir: str | Path) -> Provider:
    """The teacher for this run. Raises UserError (before any request) when it cannot start:
    a missing API key, a missing base_url, the local provider not installed."""
    if teacher.provider == "anthropic":
        from cbt_datagen.providers.anthropic import AnthropicProvider

        return AnthropicProvider(teacher)
    if teacher.provider == "anthropic-batch":
        from cbt_datagen.providers.anthropic_batch import AnthropicBatchProvider

        poll_s = float(os.environ.get("CBT_BATCH_POLL_S", "30"))  # tests poll faster
        return AnthropicBatchProvider(teacher, state_dir=state_dir, poll_s=poll_s)
    if teacher.provider == "openai-compatible":
        from cbt_datagen.providers.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(teacher, seed=seed)
    if teacher.provider == "local":
        try:
            from cbt_datagen.providers import local
        except ImportError as exc:
            raise UserError(f"teacher.provider local is not available: {exc} (install "
                            "cbt-datagen[local], or pick another teacher.provider)") from None
        factory = getattr(local, "make_provider", None) or local.LocalProvider
        offered = {"seed": seed, "state_dir": Path(state_dir)}
        accepted = inspect.signature(factory).parameters
        return factory(teacher, **{k: v for k, v in offered.items() if k in accepted})
    raise UserError(f"params.yaml: teacher.provider: unknown provider {teacher.provider!r}")
