"""Synthetic seeds, events and assessments for tests and benchmarks of the dataset stage.

Texts are random word sequences, so unrelated events share almost no shingles; duplicates
are planted on purpose: exact copies (re-cased and re-punctuated) and near copies with a
few words changed (Jaccard of 3-word shingles about 0.85-0.95). Never used for training.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cbt_schema import Assessment, AssessmentRecord, Distortion, Event, Finding, Seed

EMOTIONS = ("anxious", "ashamed", "lonely", "angry", "guilty", "hopeless", "jealous",
            "frustrated", "embarrassed", "rejected", "worthless", "overwhelmed")
OCCUPATIONS = ("nurse", "teacher", "electrician", "accountant", "student", "chef",
               "software developer", "retired", "bus driver", "lawyer", "farmer", "artist")
STATUSES = ("single", "married", "divorced", "widowed", "in a relationship")


@dataclass
class Synthetic:
    seeds: list[Seed]
    events: list[Event]
    assessments: list[AssessmentRecord]
    near_pairs: list[tuple[str, str]] = field(default_factory=list)  # (original, copy) ids
    exact_pairs: list[tuple[str, str]] = field(default_factory=list)


def _vocab(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
                   for _ in range(size)})


def synthesize(n: int, *, seed: int = 0, near: int = 0, exact: int = 0,
               words: tuple[int, int] = (30, 45), vocab_size: int = 4000) -> Synthetic:
    """n events (n - near - exact original ones), each with its seed and an assessment."""
    rng = random.Random(seed)
    vocab = _vocab(rng, vocab_size)
    distortions = list(Distortion)
    seeds: list[Seed] = []
    events: list[Event] = []
    records: list[AssessmentRecord] = []
    out = Synthetic(seeds, events, records)
    originals = n - near - exact
    if originals < 1:
        raise ValueError("need at least one original event")
    for i in range(n):
        sex, age = rng.choice(("female", "male", "non-binary")), rng.randint(18, 80)
        occ, status = rng.choice(OCCUPATIONS), rng.choice(STATUSES)
        emotion = EMOTIONS[i % len(EMOTIONS)]
        seed_id = f"seed-{i:07d}"
        seeds.append(Seed(id=seed_id, sex=sex, age=age, occupation=occ,
                          relationship_status=status, emotion=emotion))
        if i < originals:
            situation = " ".join(rng.choices(vocab, k=rng.randint(*words))) + "."
            reaction = " ".join(rng.choices(vocab, k=rng.randint(*words))) + "."
        else:
            src = events[rng.randrange(originals)]
            if i < originals + near:
                tokens = src.situation.split()
                for _ in range(max(1, len(tokens) // 40)):
                    tokens[rng.randrange(len(tokens))] = rng.choice(vocab)
                situation, reaction = " ".join(tokens), src.reaction
                out.near_pairs.append((src.id, f"event-{i:07d}"))
            else:
                situation = src.situation.upper().replace(".", "!")
                reaction = "  " + src.reaction
                out.exact_pairs.append((src.id, f"event-{i:07d}"))
        events.append(Event(id=f"event-{i:07d}", seed_id=seed_id, situation=situation,
                            reaction=reaction))
        findings = [Finding(distortion=d, thought=" ".join(rng.choices(vocab, k=8)),
                            challenge=" ".join(rng.choices(vocab, k=15)))
                    for d in rng.sample(distortions, rng.choice((0, 1, 1, 2, 2, 3)))]
        records.append(AssessmentRecord(
            id=f"assessment-{i:07d}", event_id=f"event-{i:07d}",
            assessment=Assessment(validation=" ".join(rng.choices(vocab, k=20)) + ".",
                                  findings=findings,
                                  closing=" ".join(rng.choices(vocab, k=15)) + ".")))
    return out
