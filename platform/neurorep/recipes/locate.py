"""Line numbers for recipe paths.

``tomllib`` returns plain dicts with no positions, so this module scans the TOML text
once and records, for every key path, the 1-based line where it is defined: plain
``key = value`` lines, dotted keys, table headers (``[sources.x]``), the n-th
``[[analyses]]`` header (path ``("analyses", n)``), keys of inline tables and entries
of arrays, also when they span several lines. A path that is not recorded resolves to
its nearest recorded ancestor (the enclosing table or array entry).

The scanner assumes the text already parsed with ``tomllib``; on anything it does not
understand it stops and keeps what it recorded so far, so a lookup never raises.
"""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Sequence

__all__ = ["LineLocator"]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\n\r")

Path = tuple[str | int, ...]


class _Stop(Exception):
    """The scanner met something it does not understand."""


class LineLocator:
    """Map key paths of a TOML document to the lines that define them.

    Parameters
    ----------
    text : str
        The TOML text.

    Examples
    --------
    >>> loc = LineLocator('[recipe]\\nname = "x"\\n\\n[[analyses]]\\nname = "a"\\n')
    >>> loc.line(("analyses", 0, "name"))
    5
    >>> loc.line(("analyses", 0, "params", "comparison"))  # falls back to the [[analyses]] header
    4
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self._starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]
        self.positions: dict[Path, int] = {}
        self._aot: dict[Path, int] = {}  # array-of-tables path -> index of its latest entry
        try:
            self._document()
        except (_Stop, IndexError):
            pass

    # ------------------------------------------------------------------ lookup
    def line(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path`` or of its nearest recorded ancestor; None when nothing encloses it."""
        p = tuple(path)
        for k in range(len(p), 0, -1):
            hit = self.positions.get(p[:k])
            if hit is not None:
                return hit
        return None

    def exact(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path`` itself, or None when it is not written in the text."""
        return self.positions.get(tuple(path))

    # ------------------------------------------------------------------ helpers
    def _line_of(self, i: int) -> int:
        return bisect.bisect_right(self._starts, i)

    def _record(self, path: Path, line: int) -> None:
        for k in range(1, len(path) + 1):
            self.positions.setdefault(path[:k], line)

    def _peek(self, s: str) -> bool:
        return self.text.startswith(s, self.i)

    def _skip_ws(self) -> None:
        while self.i < self.n and self.text[self.i] in " \t":
            self.i += 1

    def _skip_ws_nl(self) -> None:
        """Whitespace, newlines and comments."""
        while self.i < self.n:
            c = self.text[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#":
                end = self.text.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    def _expect(self, s: str) -> None:
        if not self._peek(s):
            raise _Stop
        self.i += len(s)

    # ------------------------------------------------------------------ keys
    def _key(self) -> list[str]:
        segs: list[str] = []
        while True:
            self._skip_ws()
            if self.i >= self.n:
                raise _Stop
            c = self.text[self.i]
            if c == '"' or c == "'":
                start = self.i
                self._single_line_string(c)
                raw = self.text[start:self.i]
                try:
                    segs.append(tomllib.loads(f"k = {raw}")["k"])
                except tomllib.TOMLDecodeError:
                    segs.append(raw[1:-1])
            else:
                start = self.i
                while self.i < self.n and self.text[self.i] in _BARE:
                    self.i += 1
                if self.i == start:
                    raise _Stop
                segs.append(self.text[start:self.i])
            self._skip_ws()
            if self._peek("."):
                self.i += 1
                continue
            return segs

    # ------------------------------------------------------------------ strings
    def _single_line_string(self, q: str) -> None:
        self.i += 1
        while self.i < self.n:
            c = self.text[self.i]
            if q == '"' and c == "\\":
                self.i += 2
                continue
            self.i += 1
            if c == q:
                return
            if c == "\n":
                raise _Stop
        raise _Stop

    def _multi_line_string(self, q: str) -> None:
        delim = q * 3
        self.i += 3
        while self.i < self.n:
            if q == '"' and self.text[self.i] == "\\":
                self.i += 2
                continue
            if self._peek(delim):
                self.i += 3
                extra = 0
                while extra < 2 and self.i < self.n and self.text[self.i] == q:
                    self.i += 1
                    extra += 1
                return
            self.i += 1
        raise _Stop

    # ------------------------------------------------------------------ values
    def _value(self, path: Path) -> None:
        if self.i >= self.n:
            raise _Stop
        c = self.text[self.i]
        if c == "{":
            self._inline_table(path)
        elif c == "[":
            self._array(path)
        elif self._peek('"""') or self._peek("'''"):
            self._multi_line_string(c)
        elif c in "\"'":
            self._single_line_string(c)
        else:
            start = self.i
            while self.i < self.n and self.text[self.i] not in _SCALAR_END:
                self.i += 1
            if self.i == start:
                raise _Stop

    def _inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self._skip_ws_nl()
            if self._peek("}"):
                self.i += 1
                return
            start = self.i
            key = tuple(self._key())
            self._record(path + key, self._line_of(start))
            self._expect("=")
            self._skip_ws()
            self._value(path + key)
            self._skip_ws_nl()
            if self._peek(","):
                self.i += 1
            elif not self._peek("}"):
                raise _Stop

    def _array(self, path: Path) -> None:
        self.i += 1
        idx = 0
        while True:
            self._skip_ws_nl()
            if self._peek("]"):
                self.i += 1
                return
            self._record(path + (idx,), self._line_of(self.i))
            self._value(path + (idx,))
            idx += 1
            self._skip_ws_nl()
            if self._peek(","):
                self.i += 1
            elif not self._peek("]"):
                raise _Stop

    # ------------------------------------------------------------------ document
    def _resolve_header(self, segs: list[str], new_entry: bool) -> Path:
        path: Path = ()
        for k, seg in enumerate(segs):
            path = path + (seg,)
            if k == len(segs) - 1 and new_entry:
                idx = self._aot.get(path, -1) + 1
                self._aot[path] = idx
                path = path + (idx,)
            elif path in self._aot:
                path = path + (self._aot[path],)
        return path

    def _document(self) -> None:
        table: Path = ()
        while True:
            self._skip_ws_nl()
            if self.i >= self.n:
                return
            start = self.i
            line = self._line_of(start)
            if self._peek("[["):
                self.i += 2
                segs = self._key()
                self._expect("]]")
                table = self._resolve_header(segs, new_entry=True)
                self._record(table, line)
            elif self._peek("["):
                self.i += 1
                segs = self._key()
                self._expect("]")
                table = self._resolve_header(segs, new_entry=False)
                self._record(table, line)
            else:
                key = tuple(self._key())
                self._record(table + key, line)
                self._expect("=")
                self._skip_ws()
                self._value(table + key)
            if self.i == start:  # no progress: give up rather than loop
                raise _Stop
