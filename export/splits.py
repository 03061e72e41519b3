"""Train/validation split by episode, seeded: every pair of an episode lands in the same split.

Splitting by episode (not by pair or frame) keeps frames of a validation episode out of train, so validation
measures what the model learnt rather than what it memorised from neighbouring frames.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

TRAIN = "train"
VALIDATION = "validation"


def validation_episodes(episode_ids: Sequence[int], fraction: float, seed: int) -> set[int]:
    """The ids that go to validation: ``round(n * fraction)`` of them, at least one when fraction > 0 and
    there are two or more episodes, never all of them. Same ids + fraction + seed = same split."""
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), not {fraction}")
    ids = sorted(set(episode_ids))
    if fraction == 0 or len(ids) < 2:
        return set()
    k = min(len(ids) - 1, max(1, round(len(ids) * fraction)))
    random.Random(seed).shuffle(ids)
    return set(ids[:k])


def split_of(episode_id: int, validation: set[int]) -> str:
    return VALIDATION if episode_id in validation else TRAIN
