"""Write component parameters as a TOML inline table, the way a recipe holds them (``params = { ... }``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["toml_value", "toml_params_fragment"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(s: str) -> str:
    # JSON escapes ", \ and the C0 controls in forms TOML basic strings also accept;
    # DEL is the one control character JSON leaves raw and TOML refuses.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007F")


def _toml_key(k: Any) -> str:
    if not isinstance(k, str):
        raise TypeError(f"TOML table keys must be str, got {type(k).__name__} {k!r}")
    return k if _BARE_KEY.match(k) else _toml_string(k)


def toml_value(v: Any) -> str:
    """``v`` as a TOML value: bool, int, float, str, lists and inline tables of them.

    Raises
    ------
    TypeError
        For ``None`` (TOML has no null) and for types TOML cannot hold.
    """
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    if v is None:
        raise TypeError("None cannot be written in TOML (it has no null); leave the key out to use the default")
    raise TypeError(f"a {type(v).__name__} value ({v!r}) cannot be written in a TOML recipe")


def toml_params_fragment(params: Mapping[str, Any]) -> str:
    """The recipe line ``params = { ... }`` for ``params``."""
    return f"params = {toml_value(dict(params))}\n"
