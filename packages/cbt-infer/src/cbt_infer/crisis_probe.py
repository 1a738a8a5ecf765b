"""The crisis screen's learned second stage: a linear probe on SmolLM2-135M's features,
computed by llama.cpp (no torch, no transformers).

The keyword screen (cbt_infer.safety) catches what its patterns name and misses new phrasings.
This probe reads meaning instead. The `crisis_probe` stage cuts the pinned local model's GGUF
(models/local) down to its first ENCODER_LAYERS blocks (models/crisis_encoder.gguf, 66 MB);
llama.cpp runs a text through it (no chat template, no generation), and the normalised hidden
states at that depth, averaged over the tokens and at the last token, are standardised and fed
to a logistic regression trained on the project's phrase lists, which gives a crisis
probability. That depth and pooling were chosen by 5-fold cross-validation on safety/train
(bench/results/crisis_features.json). Its two thresholds (possible risk, likely risk; see
cbt_infer.safety) are chosen by cross-validation on the training lists, never on the held-out
lists it is measured on. It only ever raises a tier: a text the keywords flag stays flagged.

Every entry point scores with this one Encoder, one text at a time, so the stage that fits the
probe and the CLI, the API and the benchmarks compute the same features. The probe file keeps
two training texts with the probabilities the stage computed; loading scores them again and
refuses the probe when they differ (another encoder file, or a llama.cpp build that computes
differently).

    probe = CrisisProbe.load("models/crisis_probe.json")   # its encoder GGUF lies beside it
    probe.score(["I keep thinking about not waking up"])    # -> [0.93]

Training: `cbt-infer crisis-probe` (the `crisis_probe` DVC stage; see probe_cli.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cbt_schema.errors import UserError

FORMAT = "cbt-crisis-probe/3"
ENCODER_LAYERS = 20
ENCODER_FILE = "crisis_encoder.gguf"
POOLING = ("mean", "last")  # over the tokens, and the last token
CHECK_TOLERANCE = 1e-3  # probabilities of the probe's own check texts, stage vs here
REBUILD = "rebuild it: dvc repro crisis_probe"


class Encoder:
    """A GGUF's output hidden states on llama.cpp (CPU), averaged over each text's tokens and
    at its last token, side by side.

    One thread: a short text takes about 0.1 s, steadily. More threads gain little on texts
    this short, and llama.cpp's threads spin while they wait, so on a busy machine (the
    student generating beside it, or a test suite) two threads took seconds per text."""

    def __init__(self, gguf: str | Path) -> None:
        from cbt_infer.backend_llama import import_llama_cpp

        llama_cpp = import_llama_cpp()
        from llama_cpp._utils import suppress_stdout_stderr

        try:
            with suppress_stdout_stderr(disable=False):  # its note on the pooling override
                self.llm = llama_cpp.Llama(
                    model_path=str(gguf), embedding=True, n_ctx=512, n_batch=512,
                    pooling_type=llama_cpp.LLAMA_POOLING_TYPE_NONE,
                    n_threads=1, n_threads_batch=1, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"{gguf}: llama.cpp cannot load it ({exc})") from None

    def __call__(self, texts: Sequence[str], progress: str | None = None) -> Any:
        """Features of each text (rows); `progress` names a progress bar on stderr."""
        import sys

        import numpy as np
        from tqdm import tqdm

        rows = []
        for text in tqdm(texts, desc=progress, unit="text", file=sys.stderr,
                         disable=progress is None):
            states = np.asarray(self.llm.embed(text, truncate=True), dtype=np.float64)
            rows.append(np.concatenate([states.mean(0), states[-1]]))
        return np.vstack(rows)


def _sigmoid(z: Any) -> Any:
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


L2 = 0.03  # chosen with the encoder's depth and pooling (bench/results/crisis_features.json)


def fit_logistic(features: Any, labels: Any, l2: float = L2) -> tuple[Any, Any, Any, float]:
    """Standardise, then an L2-regularised logistic regression (mean cross-entropy + l2·|w|²,
    bias unpenalised) solved by Newton's method: exact and deterministic."""
    import numpy as np

    y = np.asarray(labels, dtype=np.float64)
    mean, std = features.mean(0), features.std(0, ddof=1) + 1e-6
    x = np.hstack([(features - mean) / std, np.ones((len(y), 1))])
    penalty = np.full(x.shape[1], 2 * l2)
    penalty[-1] = 0.0
    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = _sigmoid(x @ w)
        grad = x.T @ (p - y) / len(y) + penalty * w
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return mean, std, w[:-1], float(w[-1])


def probability(features: Any, mean: Any, std: Any, weight: Any, bias: float) -> Any:
    return _sigmoid(((features - mean) / std) @ weight + bias)


class CrisisProbe:
    """A trained probe. Loading reads and checks the file only; the encoder (llama.cpp and
    its 66 MB GGUF, well under a second) loads on first use or by `build()`, which also
    checks the probe's own texts score as they did when it was fitted."""

    def __init__(self, gguf: Path, weights: dict[str, Any], thresholds: tuple[float, float],
                 check: list[dict[str, Any]], path: Path | None = None) -> None:
        self.gguf, self.thresholds, self.path = gguf, thresholds, path
        self._weights, self._check = weights, check
        self._encoder: Encoder | None = None

    def build(self) -> None:
        """Load the encoder now (done on first use otherwise) and run the agreement check."""
        if self._encoder is not None:
            return
        self._encoder = Encoder(self.gguf)
        texts = [c["text"] for c in self._check]
        for item, p in zip(self._check, self._probabilities(texts), strict=True):
            if abs(p - item["p"]) > CHECK_TOLERANCE:
                self._encoder = None
                raise UserError(
                    f"{self.path}: this llama.cpp and {self.gguf} score the probe's check text "
                    f"{item['text'][:40]!r} as {p:.4f}, the stage computed {item['p']:.4f}: "
                    f"the features differ from the ones it was fitted on; {REBUILD}")

    def _probabilities(self, texts: Sequence[str]) -> list[float]:
        import numpy as np

        assert self._encoder is not None
        if isinstance(self._weights["mean"], list):  # the file's lists, as arrays once
            self._weights = {k: np.asarray(v, dtype=np.float64)
                             for k, v in self._weights.items()}
        w = self._weights
        probs = probability(self._encoder(texts), w["mean"], w["std"], w["weight"],
                            float(w["bias"]))
        return [float(p) for p in probs]

    def score(self, texts: Sequence[str]) -> list[float]:
        """Crisis probability of each text."""
        self.build()
        return self._probabilities(texts)

    @classmethod
    def load(cls, path: str | Path, encoder: str | Path | None = None) -> CrisisProbe:
        """Read and check a probe file; its encoder is the GGUF file `encoder`, by default
        the one the file names, beside it. The encoder's size is checked here, its numbers
        when it is built (`build`)."""
        path = Path(path)
        data = _read(path)
        gguf = Path(encoder) if encoder is not None else path.parent / data["encoder"]["file"]
        if not gguf.is_file():
            raise UserError(f"{gguf}: the crisis probe's encoder is missing; {REBUILD} (or "
                            f"fetch it: dvc pull {gguf})")
        if gguf.stat().st_size != data["encoder"]["bytes"]:
            raise UserError(f"{path}: fitted with another encoder than {gguf} "
                            f"({data['encoder']['bytes']} bytes, found {gguf.stat().st_size}); "
                            f"{REBUILD}")
        weights = {k: data[k] for k in ("mean", "std", "weight", "bias")}
        thresholds = (float(data["thresholds"]["possible"]), float(data["thresholds"]["likely"]))
        return cls(gguf, weights, thresholds, data["check"], path)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"{path}: crisis probe file not found (run `dvc repro "
                        "crisis_probe`, or pass --no-crisis-probe to use keywords only)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); {REBUILD}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise UserError(f"{path}: not a crisis probe of this version (format {found!r}, "
                        f"expected {FORMAT!r}); {REBUILD}")
    missing = [k for k in ("encoder", "thresholds", "mean", "std", "weight", "bias",
                           "check") if k not in data]
    if missing:
        raise UserError(f"{path}: incomplete crisis probe (missing {', '.join(missing)}); "
                        f"{REBUILD}")
    return data
