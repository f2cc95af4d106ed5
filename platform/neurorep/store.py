"""The representation store: every source task's output, in zarr v3, with batch-level resume.

Layout under the store's root (one folder per task, named by its content-addressed key)::

    <root>/<task_key>/data/                 a zarr v3 group (the group's own store root)
        zarr.json                           attributes: kind, source, component id/version, params,
                                            stimulus ids, stimulus-set fingerprint, sites, dtype
        site-0000/                          one sub-group per site (attribute "site" holds its name)
            data                            (n_stimuli, n_features), chunked along stimuli
            repeats                         (n_repeats, n_stimuli, n_features), when the source gave repeats
            dissimilarities                 (n_rdms, n_pairs), for sites that are RDMs
            channel-<name>                  numeric channel descriptors
    <root>/<task_key>/state/
        rows-000003.bin                     rows of batch 3, every site (raw, until the task is complete)
        batch-000003.json                   done record of batch 3 (written after its rows; indexes them)
        site-0001.json                      done record of a site written whole (sources without batches)
        complete.json                       the task is finished; readers only read complete groups

Streaming sources write each batch once, as it finishes: all its sites' rows go to one file
(temporary file, then rename), then its done record is written the same way. After a kill,
a batch without its record is recomputed; leftover temporary files are removed when the group
is reopened. When the last batch is done, :meth:`SourceGroup.mark_complete` copies the rows
into the zarr arrays in whole chunks -- every chunk written once, never read back and
rewritten, the sites' chunks written concurrently -- then writes ``complete.json`` and removes
the rows files (a kill before ``complete.json`` repeats the copy on resume). Per batch this
costs two small file writes, whatever the number of sites and however large the chunks. This
protects against the process being killed; it does not ``fsync`` and so does not protect
against power loss.

Generated stimulus sets (``generate`` tasks) are stored the same way with kind ``"stimuli"``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError, NeurorepError
from .tasks import canonical_json
from .types import RDMs, Representation, StimulusSet

__all__ = [
    "RepresentationStore",
    "SourceGroup",
    "StoreError",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "chunk_shape",
]

#: Target size of one chunk (bytes); chunks hold whole stimuli rows when they fit.
DEFAULT_CHUNK_BYTES = 4 * 2**20
#: Largest chunk accepted before the feature axis is chunked too.
MAX_CHUNK_BYTES = 8 * 2**20

_FLOAT_DTYPES = {"float16", "float32", "float64"}
#: Version of the streaming layout (2: batches in rows files, copied into the arrays at completion). Part
#: of a group's identity, so that an unfinished group of another layout is rebuilt rather than resumed.
_LAYOUT = 2


class StoreError(NeurorepError, RuntimeError):
    """The representation store holds no (or inconsistent) data for a request."""


# --------------------------------------------------------------------------- atomic files

def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | Sequence[Any], *, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one.

    The bytes go to a temporary file in the same folder, which then replaces ``path``
    with :func:`os.replace` (atomic on POSIX and Windows within one file system).

    Parameters
    ----------
    path : path-like
    data : bytes or sequence of buffers
        The content, or several buffers (e.g. arrays' memoryviews) written one after the other.
    fsync : bool, default=False
        Flush the temporary file to disk before the rename (survives power loss).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in ((data,) if isinstance(data, (bytes, bytearray, memoryview)) else data):
                f.write(part)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, fsync: bool = False) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, fsync: bool = False) -> Path:
    """:func:`atomic_write_bytes` for JSON (sorted keys; NaN written as ``NaN``)."""
    return atomic_write_text(path, json.dumps(to_jsonable(obj), sort_keys=True, indent=1), fsync=fsync)


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths to plain JSON types (recursively)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- chunking

def chunk_shape(shape: tuple[int, ...], itemsize: int, *, stimulus_axis: int = 0,
                chunk_bytes: int = DEFAULT_CHUNK_BYTES, max_chunk_bytes: int = MAX_CHUNK_BYTES) -> tuple[int, ...]:
    """Chunks of about ``chunk_bytes`` along the stimulus axis, whole along the others.

    When a single stimulus (the whole extent of every other axis) exceeds
    ``max_chunk_bytes``, the last axis is chunked too, one stimulus per chunk.

    Parameters
    ----------
    shape : tuple of int
    itemsize : int
        Bytes per element.
    stimulus_axis : int, default=0
    chunk_bytes, max_chunk_bytes : int

    Returns
    -------
    tuple of int
    """
    shape = tuple(int(s) for s in shape)
    if not shape:
        return ()
    other = [s for i, s in enumerate(shape) if i != stimulus_axis]
    per_stim = itemsize * int(np.prod(other, dtype=np.int64)) if other else itemsize
    chunks = [max(1, s) for s in shape]
    n_stim = max(1, shape[stimulus_axis])
    if per_stim <= max_chunk_bytes:
        chunks[stimulus_axis] = max(1, min(n_stim, chunk_bytes // max(1, per_stim)))
        return tuple(chunks)
    chunks[stimulus_axis] = 1
    last = len(shape) - 1
    if last != stimulus_axis:
        rest = per_stim // max(1, shape[last])  # bytes of one element of the last axis, all other axes whole
        chunks[last] = max(1, min(shape[last], chunk_bytes // max(1, rest)))
    return tuple(chunks)


# --------------------------------------------------------------------------- the store

def _site_node(index: int) -> str:
    return f"site-{index:04d}"


class SourceGroup:
    """The zarr group of one source task, open for writing.

    Obtain it with :meth:`RepresentationStore.open_source`. Two ways to fill it:

    * streaming: for each batch, :meth:`write_batch` every site, then :meth:`commit_batch`
      (or both at once with :meth:`write_batches`), which writes the batch's rows to disk;
      :meth:`done_batches` lists the committed ones, which a resumed run skips; the site
      arrays are written, in whole chunks, by :meth:`mark_complete`;
    * whole sites (sources without batches): :meth:`write_site`, which records the site
      as done; :meth:`done_sites` lists them.

    Finish with :meth:`mark_complete`.
    """

    def __init__(self, store: RepresentationStore, task_key: str, meta: dict[str, Any], dtype: str | None) -> None:
        import zarr
        from zarr.storage import LocalStore

        self.store = store
        self.task_key = task_key
        self.meta = meta
        self.dtype = dtype
        self.path = store.task_path(task_key)
        self._state = self.path / "state"
        self._state.mkdir(parents=True, exist_ok=True)
        self.group = zarr.open_group(store=LocalStore(self.path / "data"), mode="a")
        self.sites: list[str] = list(meta.get("sites") or [])
        self._index = {s: i for i, s in enumerate(self.sites)}
        #: Handles of the site arrays created by mark_complete (site -> zarr array).
        self._arrays: dict[str, Any] = {}
        #: Rows given to write_batch, not yet committed: {batch: {site: (start, stop, rows)}}.
        self._pending: dict[int, dict[str, tuple[int, int, np.ndarray]]] = {}
        self._widths: dict[str, int] | None = None

    # ------------------------------------------------------------ helpers
    def _node(self, site: str) -> str:
        if site not in self._index:
            raise StoreError(f"Store group {self.task_key}: site {site!r} was not declared when the group was "
                             f"opened; declared sites are {self.sites}.")
        return _site_node(self._index[site])

    def _storage_dtype(self, arr: np.ndarray) -> np.dtype:
        if self.dtype is not None and arr.dtype.kind in "fiub":
            return np.dtype(self.dtype)
        if arr.dtype.kind in "iub":
            return arr.dtype
        if arr.dtype.kind != "f":
            raise InvalidInputError(f"Store group {self.task_key}: expected a numeric array, got dtype {arr.dtype}.")
        return arr.dtype

    def _site_attrs(self, site: str, **extra: Any) -> dict[str, Any]:
        spaces = self.meta.get("site_spaces") or {}
        names = self.meta.get("site_names") or {}
        attrs = {"site": site, "space": to_jsonable(spaces.get(site, {"site": site})),
                 "name": names.get(site, f"{self.meta.get('source', 'source')}:{site}")}
        attrs.update(extra)
        return attrs

    def _create(self, path: str, shape: tuple[int, ...], dtype: np.dtype, stimulus_axis: int = 0):
        chunks = chunk_shape(shape, dtype.itemsize, stimulus_axis=stimulus_axis,
                             chunk_bytes=self.store.chunk_bytes, max_chunk_bytes=self.store.max_chunk_bytes)
        fill = np.nan if dtype.kind == "f" else 0
        return self.group.create_array(path, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                                       overwrite=True)

    # ------------------------------------------------------------ streaming
    def done_batches(self) -> dict[int, tuple[int, int]]:
        """Committed batches: ``{batch_index: (start, stop)}``.

        A record whose rows file is gone (and the group not complete) does not count: its rows
        could not be put into the arrays.
        """
        out: dict[int, tuple[int, int]] = {}
        complete = self.is_complete()
        for p in self._state.glob("batch-*.json"):
            try:
                rec = _read_json(p)
                if rec.get("file") and not complete and not (self._state / rec["file"]).is_file():
                    continue
                out[int(rec["batch"])] = (int(rec["start"]), int(rec["stop"]))
            except (ValueError, KeyError, TypeError, AttributeError):  # an unreadable record counts as not done
                continue
        return out

    def _records(self) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for p in self._state.glob("batch-*.json"):
            try:
                rec = _read_json(p)
                out[int(rec["batch"])] = rec
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def write_batch(self, site: str, batch_index: int, rows: slice, array: np.ndarray) -> None:
        """Give the rows ``rows`` of ``site`` (kept in memory until :meth:`commit_batch` writes the batch).

        Parameters
        ----------
        site : str
        batch_index : int
            Index of the batch in the source's ``batches()`` list.
        rows : slice
            Stimulus rows of this batch (``step`` must be 1).
        array : ndarray of shape (rows.stop - rows.start, n_features)
        """
        start, stop, arr = self._prepare_rows(site, batch_index, rows, array)
        self._pending.setdefault(int(batch_index), {})[site] = (start, stop, arr)

    def _site_widths(self) -> dict[str, int]:
        """Features per site of the batches committed so far (from a record on a resumed group)."""
        if self._widths is None:
            self._widths = {}
            for rec in self._records().values():
                if isinstance(rec.get("sites"), dict):
                    self._widths = {k: int(v["shape"][1]) for k, v in rec["sites"].items()}
                    break
        return self._widths

    def _prepare_rows(self, site: str, batch_index: int, rows: slice, array: np.ndarray) -> tuple[int, int,
                                                                                                 np.ndarray]:
        """Check one batch of a site; return ``(start, stop, rows)`` as a C-contiguous array of the storage dtype."""
        self._node(site)
        arr = np.asarray(array)
        if arr.ndim == 1:
            arr = arr[:, None]
        n_stim = int(self.meta["n_stimuli"])
        start, stop, step = rows.indices(n_stim)
        if step != 1:
            raise StoreError(f"Store group {self.task_key}: batches must be contiguous slices, got {rows}.")
        if arr.ndim != 2 or arr.shape[0] != stop - start:
            raise InvalidInputError(
                f"Source {self.meta.get('component_id')!r}, site {site!r}, batch {batch_index}: expected an "
                f"array of shape ({stop - start}, n_features) for stimuli {start}:{stop}, got {arr.shape}. "
                "extract_batch must return stimuli-first arrays, one row per stimulus of the batch.")
        width = self._site_widths().get(site)
        if width is not None and width != arr.shape[1]:
            raise InvalidInputError(
                f"Source {self.meta.get('component_id')!r}, site {site!r}: batch {batch_index} has "
                f"{arr.shape[1]} features but earlier batches had {width}; every batch must give "
                "the same number of features per site.")
        return start, stop, np.ascontiguousarray(arr, dtype=self._storage_dtype(arr))

    def commit_batch(self, batch_index: int, rows: slice) -> None:
        """Write batch ``batch_index`` (the rows given to :meth:`write_batch` for every site) and record it done.

        The rows of every site go to one file, ``state/rows-<batch>.bin``, replaced atomically; then
        the done record ``state/batch-<batch>.json`` (with the file's index) is written the same
        way. A kill before the record leaves the batch not done: it is recomputed on resume.
        """
        batch_index = int(batch_index)
        start, stop, _ = rows.indices(int(self.meta["n_stimuli"]))
        pending = self._pending.pop(batch_index, {})
        missing = [s for s in self.sites if s not in pending]
        if missing:
            raise StoreError(f"Store group {self.task_key}: batch {batch_index} cannot be committed, site(s) "
                             f"{missing[:5]} were not written; write_batch every declared site first.")
        bad = [s for s, (a, b, _) in pending.items() if (a, b) != (start, stop)]
        if bad:
            raise StoreError(f"Store group {self.task_key}: batch {batch_index} covers stimuli {start}:{stop} but "
                             f"site(s) {bad[:5]} were written for other rows.")
        name = f"rows-{batch_index:06d}.bin"
        index: dict[str, dict[str, Any]] = {}
        path = self._state / name
        parts, offset = [], 0
        for site in self.sites:
            arr = pending[site][2]
            parts.append(memoryview(arr).cast("B"))
            index[site] = {"offset": offset, "dtype": arr.dtype.str, "shape": list(arr.shape)}
            offset += arr.nbytes
        atomic_write_bytes(path, parts)
        atomic_write_json(self._state / f"batch-{batch_index:06d}.json",
                          {"batch": batch_index, "start": start, "stop": stop, "file": name, "sites": index})
        if not self._widths:
            self._widths = {k: int(v["shape"][1]) for k, v in index.items()}

    def write_batches(self, batch_index: int, rows: slice, arrays: Mapping[str, np.ndarray]) -> None:
        """Write one batch for every site in ``arrays`` and commit it."""
        missing = [s for s in self.sites if s not in arrays]
        if missing:
            raise InvalidInputError(
                f"Source {self.meta.get('component_id')!r}: extract_batch returned no array for site(s) "
                f"{missing}; it must return one array per requested site (got {sorted(arrays)}).")
        for site in self.sites:
            self.write_batch(site, batch_index, rows, arrays[site])
        self.commit_batch(batch_index, rows)

    def _consolidate(self) -> None:
        """Copy the committed batches' rows into one zarr array per site, in whole chunks, and drop the rows files.

        Every chunk is written once (no chunk is read back and rewritten); the chunks of
        different sites are written together, at most about 64 MB in memory at a time.
        """
        records = self._records()
        order = sorted(records)
        if not order or not all(records[i].get("file") for i in order):
            return
        n_stim = int(self.meta["n_stimuli"])
        maps: dict[int, Any] = {}

        def rows_of(i: int, site: str) -> np.ndarray:
            rec = records[i]
            spec = rec["sites"][site]
            if i not in maps:
                maps[i] = self._state / rec["file"]
            return np.memmap(maps[i], dtype=np.dtype(spec["dtype"]), mode="r", offset=int(spec["offset"]),
                             shape=tuple(spec["shape"]))

        first = records[order[0]]["sites"]
        spans = [(int(records[i]["start"]), int(records[i]["stop"]), i) for i in order]
        handles = _create_site_arrays(self, [(site, (n_stim, int(first[site]["shape"][1])),
                                              np.dtype(first[site]["dtype"])) for site in self.sites])
        writes: list[tuple[Any, int, int, np.ndarray]] = []
        held = 0
        for site in self.sites:
            z = handles[site]
            step = int(z.chunks[0])
            for c0 in range(0, n_stim, step):
                c1 = min(c0 + step, n_stim)
                block = np.empty((c1 - c0, z.shape[1]), dtype=z.dtype)
                for a, b, i in spans:
                    lo, hi = max(a, c0), min(b, c1)
                    if lo < hi:
                        block[lo - c0:hi - c0] = rows_of(i, site)[lo - a:hi - a]
                writes.append((z, c0, c1, block))
                held += block.nbytes
                if held >= 64 * 2**20:
                    _write_rows_concurrently(writes)
                    writes, held = [], 0
        _write_rows_concurrently(writes)
        self._arrays.update(handles)

    # ------------------------------------------------------------ whole sites
    def done_sites(self) -> set[str]:
        """Sites written whole by :meth:`write_site`."""
        out = set()
        for p in self._state.glob("site-*.json"):
            try:
                out.add(str(_read_json(p)["site"]))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def write_site(self, site: str, value: Representation | RDMs) -> None:
        """Store a whole site (a Representation, with repeats and channel descriptors, or RDMs) and record it done."""
        node = self._node(site)
        group_ids = self.meta.get("stimulus_ids")
        ids = list(value.stimulus_ids)
        own_ids = None if group_ids is not None and list(group_ids) == ids else ids
        sub = self.group.require_group(node)
        if isinstance(value, RDMs):
            d = value.dissimilarities
            z = self._create(f"{node}/dissimilarities", d.shape, self._storage_dtype(d), stimulus_axis=1)
            z[...] = d.astype(z.dtype, copy=False)
            sub.attrs.update(self._site_attrs(
                site, kind="rdms", stimulus_ids=ids, dissimilarity_measure=value.dissimilarity_measure,
                rdm_descriptors=to_jsonable(dict(value.rdm_descriptors)), space=to_jsonable(dict(value.space)),
                name=value.name))
        elif isinstance(value, Representation):
            z = self._create(f"{node}/data", value.data.shape, self._storage_dtype(value.data))
            z[...] = value.data.astype(z.dtype, copy=False)
            if value.repeats is not None:
                r = value.repeats
                zr = self._create(f"{node}/repeats", r.shape, self._storage_dtype(r), stimulus_axis=1)
                zr[...] = r.astype(zr.dtype, copy=False)
            channels: dict[str, Any] = {}
            for i, (name, v) in enumerate(value.channel_descriptors.items()):
                a = np.asarray(v)
                if a.dtype.kind in "fiub":
                    arr_name = f"channel-{i:03d}"
                    zc = self.group.create_array(f"{node}/{arr_name}", shape=a.shape, dtype=a.dtype,
                                                 chunks=a.shape or (1,), overwrite=True)
                    zc[...] = a
                    channels[str(name)] = {"array": arr_name}
                else:
                    channels[str(name)] = {"values": to_jsonable(a.tolist())}
            sub.attrs.update(self._site_attrs(
                site, kind="representation", stimulus_ids=own_ids, repeats=value.repeats is not None,
                channels=channels, space=to_jsonable(dict(value.space)), name=value.name))
        else:
            raise InvalidInputError(
                f"Source {self.meta.get('component_id')!r}, site {site!r}: load() must return a Representation "
                f"or RDMs, got {type(value).__name__}.")
        atomic_write_json(self._state / f"{node}.json", {"site": site})

    # ------------------------------------------------------------ completion
    def mark_complete(self) -> None:
        """Mark the group finished: put committed batches into the site arrays, check every site has data."""
        if "batches" in self.meta and self.meta["batches"] is not None:
            done = self.done_batches()
            todo = [i for i in range(len(self.meta["batches"])) if i not in done]
            if todo:
                raise StoreError(f"Store group {self.task_key}: cannot mark complete, batch(es) {todo[:10]} "
                                 "have no done record.")
            if not self.is_complete():
                self._consolidate()
        missing = []
        for s in self.sites:
            if s in self._arrays:
                continue
            node = self._node(s)
            if not any(k in self.group for k in (f"{node}/data", f"{node}/dissimilarities")):
                missing.append(s)
        if missing:
            raise StoreError(f"Store group {self.task_key}: cannot mark complete, site(s) {missing} hold no data.")
        atomic_write_json(self._state / "complete.json", {"task_key": self.task_key, "sites": self.sites})
        for p in self._state.glob("rows-*.bin"):  # the arrays hold the rows now
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def is_complete(self) -> bool:
        return (self._state / "complete.json").is_file()


def _write_rows_concurrently(writes: list[tuple[Any, int, int, np.ndarray]]) -> None:
    """``z[start:stop] = rows`` for every ``(z, start, stop, rows)``, all in one pass of zarr's event loop.

    Each write replaces its chunk files atomically, as a single ``z[start:stop] = rows`` does; running
    them together saves a round trip to zarr's I/O thread per site and overlaps their file I/O.
    Falls back to one write after another when zarr's asynchronous API is not available.
    """
    try:
        from zarr.core.sync import sync
    except ImportError:  # pragma: no cover - zarr >= 3 has it
        sync = None
    handles = [getattr(z, "async_array", None) for z, *_ in writes]
    if sync is None or any(h is None for h in handles) or len(writes) < 2:
        for z, start, stop, rows in writes:
            z[start:stop] = rows
        return
    import asyncio

    async def write_all() -> None:
        await asyncio.gather(*(h.setitem(slice(start, stop), rows)
                               for h, (_, start, stop, rows) in zip(handles, writes)))

    sync(write_all())


def _create_site_arrays(group: SourceGroup, specs: list[tuple[str, tuple[int, ...], np.dtype]]) -> dict[str, Any]:
    """Create each site's sub-group (all its attributes in one write) and data array, concurrently.

    ``specs`` holds ``(site, shape, dtype)``; returns ``{site: zarr array}``. Existing nodes are replaced.
    """
    import asyncio

    import zarr

    store = group.store

    def args(shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any]:
        chunks = chunk_shape(shape, dtype.itemsize, chunk_bytes=store.chunk_bytes,
                             max_chunk_bytes=store.max_chunk_bytes)
        return {"shape": shape, "chunks": chunks, "dtype": dtype, "fill_value": np.nan if dtype.kind == "f" else 0,
                "overwrite": True}

    def attrs(site: str) -> dict[str, Any]:
        return group._site_attrs(site, kind="representation", stimulus_ids=None, repeats=False, channels={})

    agroup = getattr(group.group, "_async_group", None)
    try:
        from zarr.core.sync import sync
    except ImportError:  # pragma: no cover - zarr >= 3 has it
        sync = None
    if agroup is None or sync is None:
        out = {}
        for site, shape, dtype in specs:
            node = group._node(site)
            group.group.create_group(node, overwrite=True, attributes=attrs(site))
            out[site] = group.group.create_array(f"{node}/data", **args(shape, dtype))
        return out

    async def one(site: str, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        sub = await agroup.create_group(group._node(site), overwrite=True, attributes=attrs(site))
        return await sub.create_array("data", **args(shape, dtype))

    async def all_sites() -> list[Any]:
        return await asyncio.gather(*(one(*spec) for spec in specs))

    made = sync(all_sites())
    return {spec[0]: zarr.Array(a) for spec, a in zip(specs, made)}


class RepresentationStore:
    """Source outputs on disk (zarr v3), addressed by task key.

    Parameters
    ----------
    root : path-like
        Folder of the store (created on demand).
    chunk_bytes : int, default=4 MiB
        Target chunk size along the stimulus axis.
    max_chunk_bytes : int, default=8 MiB
        A stimulus row larger than this is split along features.

    Examples
    --------
    >>> store = RepresentationStore(tmp_path / "store")                      # doctest: +SKIP
    >>> g = store.open_source("abc123", {"source": "net", "stimulus_ids": ids, "sites": ["fc"]})  # doctest: +SKIP
    >>> g.write_batches(0, slice(0, 16), {"fc": block}); g.mark_complete()   # doctest: +SKIP
    >>> store.read("abc123", "fc")                                           # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str], *, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 max_chunk_bytes: int = MAX_CHUNK_BYTES) -> None:
        self.root = Path(root)
        self.chunk_bytes = int(chunk_bytes)
        self.max_chunk_bytes = int(max_chunk_bytes)

    def __repr__(self) -> str:
        return f"RepresentationStore({str(self.root)!r})"

    # ------------------------------------------------------------ paths and state
    def task_path(self, task_key: str) -> Path:
        if not task_key or any(c in task_key for c in "/\\") or task_key in (".", ".."):
            raise StoreError(f"Invalid task key {task_key!r}: expected a hex digest.")
        return self.root / task_key

    def is_complete(self, task_key: str) -> bool:
        """True when the task's group was marked complete."""
        return (self.task_path(task_key) / "state" / "complete.json").is_file()

    def exists(self, task_key: str) -> bool:
        return (self.task_path(task_key) / "data" / "zarr.json").is_file()

    def remove(self, task_key: str) -> None:
        """Delete a task's group (data and state)."""
        shutil.rmtree(self.task_path(task_key), ignore_errors=True)

    def keys(self) -> list[str]:
        """Task keys with a group in the store."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "data" / "zarr.json").is_file())

    def _group(self, task_key: str):
        import zarr
        from zarr.storage import LocalStore

        if not self.exists(task_key):
            raise StoreError(f"The representation store {str(self.root)!r} holds no group for task {task_key}; "
                             "run the source task first.")
        return zarr.open_group(store=LocalStore(self.task_path(task_key) / "data", read_only=True), mode="r")

    def meta(self, task_key: str) -> dict[str, Any]:
        """The attributes the group was opened with."""
        return dict(self._group(task_key).attrs)

    # ------------------------------------------------------------ writing
    @staticmethod
    def _identity(meta: Mapping[str, Any], dtype: str | None) -> str:
        keep = {k: meta.get(k) for k in ("kind", "component_id", "component_version", "params", "stimulus_ids",
                                          "stimuli_fingerprint", "sites", "batches", "n_stimuli")}
        keep["dtype"] = dtype
        keep["layout"] = _LAYOUT
        return canonical_json(to_jsonable(keep))

    def _clean_partials(self, task_key: str) -> int:
        n = 0
        for p in self.task_path(task_key).rglob("*.partial"):
            try:
                p.unlink()
                n += 1
            except FileNotFoundError:
                pass
        return n

    def open_source(self, task_key: str, meta: Mapping[str, Any], *, dtype: str | None = None) -> SourceGroup:
        """Open (create or resume) the group of a source task.

        Parameters
        ----------
        task_key : str
        meta : dict
            Attributes of the group: ``source`` (the recipe's source name), ``component_id``,
            ``component_version``, ``params``, ``stimulus_ids`` (the rows of streamed sites, or
            None), ``stimuli_fingerprint``, ``sites`` (the declared site names, in order),
            ``batches`` (``[[start, stop], ...]`` or None), ``site_spaces`` and ``site_names``
            (optional, per site).
        dtype : {"float16", "float32", "float64"} or None, default=None
            Storage dtype of floating arrays; None keeps the source's dtype. ``"float16"``
            halves the size of float32 data at ~3 significant digits.

        Returns
        -------
        SourceGroup

        Notes
        -----
        An existing group with the same identity (component, params, stimuli, sites,
        batches, dtype) is resumed: committed batches and written sites are kept and
        temporary files of interrupted writes are removed. A group with a different
        identity under the same key is discarded and rebuilt.
        """
        import zarr
        from zarr.storage import LocalStore

        if dtype is not None and str(dtype) not in _FLOAT_DTYPES:
            raise InvalidInputError(f"Store dtype must be one of {sorted(_FLOAT_DTYPES)} or None, got {dtype!r}.")
        m = to_jsonable(dict(meta))
        m.setdefault("kind", "source")
        if m.get("stimulus_ids") is not None:
            m["n_stimuli"] = len(m["stimulus_ids"])
        m["dtype"] = dtype
        ident = self._identity(m, dtype)
        m["identity"] = ident
        path = self.task_path(task_key)
        if self.exists(task_key):
            old = zarr.open_group(store=LocalStore(path / "data"), mode="r").attrs.get("identity")
            if old != ident:
                self.remove(task_key)
            else:
                self._clean_partials(task_key)
        elif path.exists():  # a group killed before its zarr.json was written
            self.remove(task_key)
        group = SourceGroup(self, task_key, m, dtype)
        if group.group.attrs.get("identity") != ident:
            group.group.attrs.put(m)
        return group

    def write_stimuli(self, task_key: str, stimuli: StimulusSet, meta: Mapping[str, Any] | None = None) -> None:
        """Store a generated stimulus set (ids, modality, payload, paths, descriptors) and mark it complete.

        ``payload`` must be a numeric/bool/str ndarray or a list of str; other payloads
        (e.g. images as Python objects) raise :class:`InvalidInputError`.
        """
        import zarr
        from zarr.storage import LocalStore

        self.remove(task_key)
        path = self.task_path(task_key)
        g = zarr.open_group(store=LocalStore(path / "data"), mode="w")
        attrs: dict[str, Any] = {"kind": "stimuli", "ids": list(stimuli.ids), "modality": stimuli.modality,
                                 "name": stimuli.name, "paths": None if stimuli.paths is None else list(stimuli.paths),
                                 "fingerprint": stimuli.fingerprint(), **to_jsonable(dict(meta or {}))}
        payload = stimuli.payload
        if payload is None:
            attrs["payload"] = None
        elif isinstance(payload, np.ndarray) and payload.dtype.kind in "fiub":
            z = g.create_array("payload", shape=payload.shape, dtype=payload.dtype,
                               chunks=chunk_shape(payload.shape, payload.dtype.itemsize,
                                                  chunk_bytes=self.chunk_bytes, max_chunk_bytes=self.max_chunk_bytes))
            z[...] = payload
            attrs["payload"] = {"array": "payload"}
        elif (isinstance(payload, np.ndarray) and payload.dtype.kind in "US") or (
                isinstance(payload, (list, tuple)) and all(isinstance(p, str) for p in payload)):
            attrs["payload"] = {"strings": [str(p) for p in payload]}
        else:
            raise InvalidInputError(
                f"StimulusSet {stimuli.name!r}: cannot store a payload of type {type(payload).__name__} in the "
                "representation store; generators must return a numeric ndarray (e.g. images as (n, H, W, C) "
                "uint8) or a list of str.")
        desc: dict[str, Any] = {}
        for i, (name, v) in enumerate(stimuli.descriptors.items()):
            a = np.asarray(v)
            if a.dtype.kind in "fiub":
                z = g.create_array(f"descriptor-{i:03d}", shape=a.shape, dtype=a.dtype, chunks=a.shape or (1,))
                z[...] = a
                desc[str(name)] = {"array": f"descriptor-{i:03d}"}
            else:
                desc[str(name)] = {"values": to_jsonable(a.tolist())}
        attrs["descriptors"] = desc
        g.attrs.put(attrs)
        (path / "state").mkdir(parents=True, exist_ok=True)
        atomic_write_json(path / "state" / "complete.json", {"task_key": task_key, "kind": "stimuli"})

    # ------------------------------------------------------------ reading
    def _require_complete(self, task_key: str) -> None:
        if not self.is_complete(task_key):
            raise StoreError(f"Task {task_key} is not complete in the representation store {str(self.root)!r} "
                             "(it was interrupted or failed); run the recipe again to finish it.")

    def sites(self, task_key: str) -> list[str]:
        """The declared sites of a source group, in order."""
        return list(self.meta(task_key).get("sites") or [])

    def read(self, task_key: str, site: str, *, require_complete: bool = True) -> Representation | RDMs:
        """Read one site of a source task.

        Parameters
        ----------
        task_key : str
        site : str
        require_complete : bool, default=True
            Refuse groups that were not marked complete.

        Returns
        -------
        Representation or RDMs
            Stored float16 data is returned as float32.
        """
        if require_complete:
            self._require_complete(task_key)
        g = self._group(task_key)
        attrs = g.attrs
        sites = list(attrs.get("sites") or [])
        if site not in sites:
            raise StoreError(f"Task {task_key} (source {attrs.get('source')!r}) has no site {site!r}; "
                             f"its sites are {sites}.")
        node = _site_node(sites.index(site))
        if node not in g:
            raise StoreError(f"Task {task_key}: site {site!r} has no data in the store.")
        sub = g[node]
        sa = dict(sub.attrs)
        if sa.get("kind") == "rdms":
            d = _widen(sub["dissimilarities"][...])
            return RDMs(d, tuple(sa["stimulus_ids"]), dissimilarity_measure=sa.get("dissimilarity_measure", "unknown"),
                        rdm_descriptors=sa.get("rdm_descriptors") or {}, space=sa.get("space") or {},
                        name=sa.get("name", site))
        data = _widen(sub["data"][...])
        ids = sa.get("stimulus_ids") or attrs.get("stimulus_ids")
        repeats = _widen(sub["repeats"][...]) if sa.get("repeats") else None
        channels = {}
        for name, spec in (sa.get("channels") or {}).items():
            channels[name] = sub[spec["array"]][...] if "array" in spec else np.asarray(spec["values"])
        return Representation(data, tuple(ids), repeats=repeats, space=sa.get("space") or {},
                              channel_descriptors=channels, name=sa.get("name", site))

    def read_stimuli(self, task_key: str) -> StimulusSet:
        """Read a stimulus set written by :meth:`write_stimuli`."""
        self._require_complete(task_key)
        g = self._group(task_key)
        a = dict(g.attrs)
        if a.get("kind") != "stimuli":
            raise StoreError(f"Task {task_key} holds {a.get('kind')!r} data, not a stimulus set.")
        pay = a.get("payload")
        payload: Any = None
        if pay and "array" in pay:
            payload = g[pay["array"]][...]
        elif pay and "strings" in pay:
            payload = list(pay["strings"])
        desc = {}
        for name, spec in (a.get("descriptors") or {}).items():
            desc[name] = g[spec["array"]][...] if "array" in spec else np.asarray(spec["values"])
        return StimulusSet(ids=tuple(a["ids"]), modality=a.get("modality", "other"), payload=payload,
                           paths=None if a.get("paths") is None else tuple(a["paths"]), descriptors=desc,
                           name=a.get("name", "stimuli"))

    def arrays(self, task_key: str) -> Iterable[tuple[str, Any]]:
        """``(site, zarr array)`` pairs of a group's data arrays (for inspection: chunks, dtype)."""
        g = self._group(task_key)
        for i, site in enumerate(g.attrs.get("sites") or []):
            node = _site_node(i)
            for name in ("data", "dissimilarities"):
                if f"{node}/{name}" in g:
                    yield site, g[f"{node}/{name}"]


def _widen(a: np.ndarray) -> np.ndarray:
    """float16 is a storage format; compute in float32."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


