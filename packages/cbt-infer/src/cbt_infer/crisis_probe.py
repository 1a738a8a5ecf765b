"""The crisis screen's learned second stage: a linear probe on SmolLM2-135M's hidden states.

The keyword screen (cbt_infer.safety) catches what its patterns name and misses new phrasings.
This probe reads meaning instead: the text goes through the base model (no chat template, no
generation), the hidden states of a few layers are averaged over the tokens, standardised, and
a logistic regression trained on the project's phrase lists gives a crisis probability. Its
two thresholds (possible risk, likely risk; see cbt_infer.safety) are chosen by
cross-validation on the training lists, never on the held-out lists it is measured on. It only
ever raises a tier: a text the keywords flag stays flagged.

    probe = CrisisProbe.load("models/crisis_probe.json")   # loads models/local (135M)
    probe.score(["I keep thinking about not waking up"])    # -> [0.93]
    CrisisScreen.load(probe)(text)                           # keywords, then the probe

Training: `cbt-infer crisis-probe` (the `crisis_probe` DVC stage; see probe_cli.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cbt_schema.errors import UserError

LAYERS = (10, 20, 30)
FORMAT = "cbt-crisis-probe/2"


def base_identity(base: str | Path) -> dict[str, Any]:
    """What pins the base model: its architecture and, when the base_model stage made it,
    the sha256 of the GGUF file it came from."""
    folder = Path(base)
    if not (folder / "config.json").is_file():
        raise UserError(f"{folder}: not a model folder (no config.json); run the base_model "
                        "stage: dvc repro base_model")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    identity = {"hidden_size": config.get("hidden_size"),
                "num_hidden_layers": config.get("num_hidden_layers")}
    record = folder / "base_model.json"
    if record.is_file():
        identity["gguf_sha256"] = json.loads(record.read_text(encoding="utf-8")).get(
            "gguf_sha256")
    return identity


class Encoder:
    """Mean-pooled hidden states of LAYERS for each text, from the base model on CPU."""

    def __init__(self, base: str | Path, layers: Sequence[int] = LAYERS) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.layers = tuple(layers)
        self.tokenizer = AutoTokenizer.from_pretrained(base)
        self.model = AutoModel.from_pretrained(base, dtype=torch.float32).eval()
        n = self.model.config.num_hidden_layers
        if max(self.layers) > n:
            raise UserError(f"{base}: the probe reads layer {max(self.layers)}, the model has {n}")

    def __call__(self, texts: Sequence[str], batch_size: int = 16,
                 progress: str | None = None) -> Any:
        """Features of each text; `progress` names a progress bar (on stderr) for long runs."""
        import sys

        import torch
        from tqdm import tqdm

        rows = []
        starts = range(0, len(texts), batch_size)
        with torch.inference_mode():
            for start in tqdm(starts, desc=progress, unit="batch", file=sys.stderr,
                              disable=progress is None):
                batch = self.tokenizer(list(texts[start:start + batch_size]), padding=True,
                                       truncation=True, max_length=512, return_tensors="pt")
                states = self.model(**batch, output_hidden_states=True).hidden_states
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = [(states[i] * mask).sum(1) / mask.sum(1) for i in self.layers]
                rows.append(torch.cat(pooled, dim=1))
        return torch.cat(rows)


def fit_logistic(features: Any, labels: Any, l2: float = 1e-2) -> tuple[Any, Any, Any, Any]:
    """Standardise, then an L2-regularised logistic regression (full-batch L-BFGS)."""
    import torch

    mean, std = features.mean(0), features.std(0) + 1e-6
    x = (features - mean) / std
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=500, line_search_fn="strong_wolfe")

    def loss() -> Any:
        opt.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(x @ weight + bias, labels)
        value = value + l2 * (weight**2).sum()
        value.backward()
        return value

    opt.step(loss)
    return mean, std, weight.detach(), bias.detach()


def probability(features: Any, mean: Any, std: Any, weight: Any, bias: Any) -> Any:
    import torch

    return torch.sigmoid(((features - mean) / std) @ weight + bias)


class CrisisProbe:
    """A trained probe. Loading reads and checks the file only; the encoder (torch and the
    135M model, the slow part) is built on first use or by `build()`. Never build it while
    another thread loads a model: transformers' loading is not thread-safe (two concurrent
    from_pretrained calls left an lm_head untied on the meta device in our tests)."""

    def __init__(self, base: Path, layers: Sequence[int], weights: dict[str, list],
                 thresholds: tuple[float, float], path: Path | None = None) -> None:
        self.base, self.layers, self.thresholds = base, tuple(layers), thresholds
        self.path = path
        self._weights = weights
        self._ready: tuple[Encoder, Any, Any, Any, Any] | None = None

    def build(self) -> None:
        """Import torch and load the encoder now (done on first use otherwise)."""
        import torch

        if self._ready is None:
            w = {k: torch.tensor(v) for k, v in self._weights.items()}
            self._ready = (Encoder(self.base, self.layers), w["mean"], w["std"], w["weight"],
                           w["bias"])

    def score(self, texts: Sequence[str]) -> list[float]:
        """Crisis probability of each text."""
        self.build()
        assert self._ready is not None
        encoder, *params = self._ready
        return [float(p) for p in probability(encoder(texts), *params)]

    @classmethod
    def load(cls, path: str | Path, base: str | Path | None = None) -> CrisisProbe:
        """Read and check a probe file; its base model is `base` or the folder the file names
        (as recorded, or beside the folder holding the file)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: crisis probe file not found (run `dvc repro "
                            "crisis_probe`, or pass --no-crisis-probe to use keywords only)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: not valid JSON ({exc}); rebuild it: dvc repro "
                            "crisis_probe") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise UserError(f"{path}: not a crisis probe of this version (format {found!r}, "
                            f"expected {FORMAT!r}); rebuild it: dvc repro crisis_probe")
        missing = [k for k in ("base_model", "base_identity", "layers", "thresholds", "mean",
                               "std", "weight", "bias") if k not in data]
        if missing:
            raise UserError(f"{path}: incomplete crisis probe (missing {', '.join(missing)}); "
                            "rebuild it: dvc repro crisis_probe")
        if base is None:
            recorded = Path(data["base_model"])
            base = next((c for c in (recorded, path.parent.parent / recorded)
                         if c.is_dir()), recorded)
        base = Path(base)
        expected, found = data["base_identity"], base_identity(base)
        if any(found.get(k) != v for k, v in expected.items()):
            raise UserError(f"{path}: trained on a different base model than {base} "
                            f"(expected {expected}, found {found}); retrain it: dvc repro "
                            "crisis_probe")
        weights = {k: data[k] for k in ("mean", "std", "weight", "bias")}
        thresholds = (float(data["thresholds"]["possible"]), float(data["thresholds"]["likely"]))
        return cls(base, data["layers"], weights, thresholds, path)
