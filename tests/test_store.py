"""The representation store: chunking, dtypes, resumption after partial batches, RDMs, repeats, stimuli."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from neurorep.errors import InvalidInputError
from neurorep.store import (
    DEFAULT_CHUNK_BYTES,
    MAX_CHUNK_BYTES,
    RepresentationStore,
    StoreError,
    atomic_write_bytes,
    chunk_shape,
)
from neurorep.types import RDMs, Representation, StimulusSet


def _meta(ids, sites, batches=None, **kw):
    return {"source": "net", "component_id": "toy.slow-source", "component_version": "1.0.0",
            "params": {"a": 1}, "stimulus_ids": list(ids), "stimuli_fingerprint": "fp", "sites": list(sites),
            "batches": batches, **kw}


def _batches(n, size):
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


def test_chunks_are_megabytes_along_stimuli(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    n, f = 1200, 1000  # float32 rows of 4000 bytes
    x = rng.standard_normal((n, f)).astype(np.float32)
    ids = [f"s{i}" for i in range(n)]
    g = store.open_source("k1", _meta(ids, ["fc"], [[s.start, s.stop] for s in _batches(n, 500)]))
    for i, b in enumerate(_batches(n, 500)):
        g.write_batches(i, b, {"fc": x[b]})
    g.mark_complete()
    (site, z), = list(store.arrays("k1"))
    assert site == "fc" and z.dtype == np.float32
    rows, cols = z.chunks
    assert cols == f and rows == DEFAULT_CHUNK_BYTES // (f * 4) == 1048
    assert 1 * 2**20 <= rows * cols * 4 <= MAX_CHUNK_BYTES
    np.testing.assert_array_equal(store.read("k1", "fc").data, x)


def test_chunk_shape_splits_features_of_huge_rows():
    # one stimulus of 3e6 float32 features (12 MB) does not fit a chunk: features are chunked too
    c = chunk_shape((10, 3_000_000), 4)
    assert c[0] == 1 and c[1] * 4 <= MAX_CHUNK_BYTES and c[1] * 4 >= 2**20
    # repeats (n_repeats, n_stimuli, n_features): stimuli are axis 1
    assert chunk_shape((5, 100, 10), 8, stimulus_axis=1) == (5, 100, 10)
    assert chunk_shape((5, 10_000, 100), 8, stimulus_axis=1, chunk_bytes=40_000) == (5, 10, 100)


def test_float16_storage(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    x = rng.standard_normal((30, 7))
    ids = [f"s{i}" for i in range(30)]
    g = store.open_source("k16", _meta(ids, ["a"], [[0, 30]]), dtype="float16")
    g.write_batches(0, slice(0, 30), {"a": x})
    g.mark_complete()
    (_, z), = list(store.arrays("k16"))
    assert z.dtype == np.float16
    rep = store.read("k16", "a")
    assert rep.data.dtype == np.float32  # widened for computation
    np.testing.assert_array_equal(rep.data, x.astype(np.float16).astype(np.float32))
    assert not np.array_equal(rep.data, x)
    with pytest.raises(InvalidInputError, match="float16"):
        store.open_source("bad", _meta(ids, ["a"]), dtype="int8")


def test_resume_after_crash_between_data_and_done_record(tmp_path, rng):
    """Batches straddle chunks; a batch written but not committed is redone, committed rows survive."""
    store = RepresentationStore(tmp_path, chunk_bytes=5 * 8 * 8)  # 5 rows of 8 float64 per chunk
    n = 23
    x = {s: rng.standard_normal((n, 8)) for s in ("a", "b")}
    ids = [f"s{i}" for i in range(n)]
    batches = _batches(n, 3)
    meta = _meta(ids, ["a", "b"], [[b.start, b.stop] for b in batches])
    g = store.open_source("k", meta)
    for i in range(3):
        g.write_batches(i, batches[i], {s: x[s][batches[i]] for s in x})
    # "crash": batch 3 (rows 9:12, sharing a chunk with committed rows 5:9) written for site a only,
    # with garbage, and no done record; plus a temporary file left by an interrupted chunk write
    g.write_batch("a", 3, batches[3], np.full((3, 8), 99.0))
    chunk_dir = tmp_path / "k" / "data" / "site-0000" / "data" / "c"
    leftover = chunk_dir / "1" / "0.deadbeef.partial"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half a chunk")
    assert not store.is_complete("k")
    with pytest.raises(StoreError, match="not complete"):
        store.read("k", "a")

    g2 = store.open_source("k", meta)
    assert g2.done_batches() == {0: (0, 3), 1: (3, 6), 2: (6, 9)}
    assert not leftover.exists()
    with pytest.raises(StoreError, match="batch"):
        g2.mark_complete()
    for i, b in enumerate(batches):
        if i not in g2.done_batches():
            g2.write_batches(i, b, {s: x[s][b] for s in x})
    g2.mark_complete()
    for s in x:
        np.testing.assert_array_equal(store.read("k", s).data, x[s])
    rep = store.read("k", "a")
    assert rep.stimulus_ids == tuple(ids) and rep.name == "net:a" and rep.space == {"site": "a"}


def test_changed_identity_discards_old_group(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    ids = [f"s{i}" for i in range(6)]
    meta = _meta(ids, ["a"], [[0, 3], [3, 6]])
    g = store.open_source("k", meta)
    g.write_batches(0, slice(0, 3), {"a": rng.standard_normal((3, 2))})
    assert store.open_source("k", meta).done_batches() == {0: (0, 3)}
    # same key but other batching (or dtype): nothing of the old group is trusted
    assert store.open_source("k", _meta(ids, ["a"], [[0, 2], [2, 4], [4, 6]])).done_batches() == {}
    g = store.open_source("k", meta)
    g.write_batches(0, slice(0, 3), {"a": rng.standard_normal((3, 2))})
    assert store.open_source("k", meta, dtype="float32").done_batches() == {}


def test_batch_shape_errors_name_the_component(tmp_path):
    store = RepresentationStore(tmp_path)
    g = store.open_source("k", _meta([f"s{i}" for i in range(6)], ["a"], [[0, 3], [3, 6]]))
    with pytest.raises(InvalidInputError, match=r"toy.slow-source.*shape \(3, n_features\)"):
        g.write_batch("a", 0, slice(0, 3), np.zeros((2, 4)))
    with pytest.raises(InvalidInputError, match="no array for site"):
        g.write_batches(0, slice(0, 3), {})
    with pytest.raises(StoreError, match="not declared"):
        g.write_batch("zz", 0, slice(0, 3), np.zeros((3, 4)))
    g.write_batches(0, slice(0, 3), {"a": np.zeros((3, 4))})
    with pytest.raises(InvalidInputError, match="same number of features"):
        g.write_batch("a", 1, slice(3, 6), np.zeros((3, 5)))


def test_rdms_round_trip(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    n = 9
    ids = tuple(f"img{i}" for i in range(n))
    d = rng.random((4, n * (n - 1) // 2))
    rdms = RDMs(d, ids, dissimilarity_measure="crossnobis",
                rdm_descriptors={"subject": ["s1", "s2", "s3", "s4"], "session": [1, 1, 2, 2]},
                space={"kind": "brain", "roi": "IT"}, name="IT rdms")
    g = store.open_source("r", _meta(ids[::-1], ["IT"]))  # group ids differ from the RDMs' own order
    g.write_site("IT", rdms)
    assert g.done_sites() == {"IT"}
    g.mark_complete()
    out = store.read("r", "IT")
    assert isinstance(out, RDMs)
    np.testing.assert_array_equal(out.dissimilarities, d)
    assert out.stimulus_ids == ids and out.dissimilarity_measure == "crossnobis"
    assert {k: list(v) for k, v in out.rdm_descriptors.items()} == {"subject": ["s1", "s2", "s3", "s4"],
                                                                    "session": [1, 1, 2, 2]}
    assert dict(out.space) == {"kind": "brain", "roi": "IT"} and out.name == "IT rdms"


def test_repeats_and_channels_round_trip(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    rep = rng.standard_normal((3, 10, 5))
    ids = tuple(f"s{i}" for i in range(10))
    r = Representation(rep.mean(0), ids[::-1], repeats=rep, space={"kind": "brain", "subject": "sub-01"},
                       channel_descriptors={"xyz": rng.integers(0, 50, (5, 3)), "label": np.array(list("abcde"))},
                       name="V1")
    g = store.open_source("rep", _meta(ids, ["V1", "V2"]))
    g.write_site("V1", r)
    g.write_site("V2", Representation(rep[0], ids))
    g.mark_complete()
    out = store.read("rep", "V1")
    np.testing.assert_array_equal(out.data, r.data)
    np.testing.assert_array_equal(out.repeats, rep)
    assert out.stimulus_ids == ids[::-1]
    np.testing.assert_array_equal(out.channel_descriptors["xyz"], r.channel_descriptors["xyz"])
    assert list(out.channel_descriptors["label"]) == list("abcde")
    assert dict(out.space) == {"kind": "brain", "subject": "sub-01"}
    v2 = store.read("rep", "V2")
    assert v2.repeats is None and v2.stimulus_ids == ids
    with pytest.raises(StoreError, match="no site 'V3'"):
        store.read("rep", "V3")


def test_stimuli_round_trip(tmp_path, rng):
    store = RepresentationStore(tmp_path)
    s = StimulusSet(tuple(f"g{i}" for i in range(6)), modality="image", payload=rng.integers(0, 255, (6, 4, 4, 3),
                                                                                             dtype=np.uint8),
                    descriptors={"cat": np.arange(6) % 2, "name": np.array(list("abcdef"))}, name="gen")
    store.write_stimuli("st", s, {"generator": "x"})
    out = store.read_stimuli("st")
    assert out.ids == s.ids and out.modality == "image" and out.name == "gen"
    np.testing.assert_array_equal(out.payload, s.payload)
    np.testing.assert_array_equal(out.descriptors["cat"], s.descriptors["cat"])
    assert out.fingerprint() == s.fingerprint()
    t = StimulusSet(("a", "b"), modality="text", payload=["hello", "world"])
    store.write_stimuli("txt", t)
    assert store.read_stimuli("txt").payload == ["hello", "world"]
    with pytest.raises(InvalidInputError, match="cannot store a payload"):
        store.write_stimuli("obj", StimulusSet(("a",), payload=[object()]))


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"old contents")

    def crash(src, dst):
        raise KeyboardInterrupt("killed before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(p, b"new")
    monkeypatch.undo()
    assert p.read_bytes() == b"old contents"
    assert [q.name for q in Path(tmp_path).iterdir()] == ["f.bin"]  # no temporary file left behind
