from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base for every params section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
