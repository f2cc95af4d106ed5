"""Small HTML helpers for report sections: escaping, figures as data URIs, notes and tables.

Every helper returns a self-contained fragment: images are embedded as base64 PNG data
URIs, nothing refers to a network resource.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape as _escape
from typing import Any

__all__ = [
    "FIGURE_DPI",
    "SkipSection",
    "esc",
    "figure_html",
    "figure_to_data_uri",
    "fmt_num",
    "note_html",
    "table_html",
]

#: Resolution of embedded figures (pixels per inch); pages show them at 96 CSS px per inch,
#: so they stay sharp on high-density screens.
FIGURE_DPI = 160


class SkipSection(Exception):
    """Raise from :meth:`ReportSection.render` when a run holds nothing for the section.

    The report shows the message as a one-line note under the section's heading
    (not as an error).
    """


def esc(value: Any) -> str:
    """HTML-escape ``str(value)`` (quotes included)."""
    return _escape("" if value is None else str(value), quote=True)


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; ``"–"`` for None/NaN.

    Parameters
    ----------
    value : float, int or None
    digits : int, default=4
    """
    if value is None:
        return "\u2013"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(v):
        return "\u2013"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return f"{v:.{digits}g}"


def figure_to_data_uri(fig: Any, *, dpi: int = FIGURE_DPI) -> str:
    """Render a matplotlib figure as a ``data:image/png;base64,...`` URI.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default=FIGURE_DPI
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig: Any, *, alt: str, caption: str | None = None, dpi: int = FIGURE_DPI,
                close: bool = True) -> str:
    """A ``<figure>`` with the figure embedded as a PNG data URI and an optional caption.

    The image's CSS width is its size in inches at 96 px per inch (capped by the page's
    width), whatever ``dpi`` it was rendered at.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    alt : str
        Text alternative (what the figure shows).
    caption : str, optional
        HTML caption (escape user text with :func:`esc`).
    dpi : int, default=FIGURE_DPI
    close : bool, default=True
        Close the figure in pyplot's registry (when it was made with pyplot).
    """
    uri = figure_to_data_uri(fig, dpi=dpi)
    # bbox_inches="tight" changes the size; read it back from the PNG header (width, height at bytes 16..24)
    raw = base64.b64decode(uri.split(",", 1)[1][:64])
    w_px = int.from_bytes(raw[16:20], "big")
    css_w = max(1, round(w_px * 96 / dpi))
    if close and getattr(getattr(fig, "canvas", None), "manager", None) is not None:
        import matplotlib.pyplot as plt  # only figures made through pyplot are registered there

        plt.close(fig)
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f'<figure class="fig"><img src="{uri}" alt="{esc(alt)}" style="width:{css_w}px" '
            f'loading="eager">{cap}</figure>')


def note_html(text: str) -> str:
    """A one-line muted note (``text`` is escaped)."""
    return f'<p class="note">{esc(text)}</p>'


def table_html(rows: Iterable[Sequence[Any]], header: Sequence[str], *, numeric: Iterable[int] = (),
               cls: str = "data", raw: bool = False, row_attrs: Sequence[Mapping[str, str]] | None = None) -> str:
    """An HTML table.

    Parameters
    ----------
    rows : iterable of sequences
        Cell values (escaped unless ``raw``).
    header : sequence of str
    numeric : iterable of int
        Column indices to right-align with tabular figures.
    cls : str, default="data"
        CSS class of the table.
    raw : bool, default=False
        Cells are HTML already.
    row_attrs : sequence of dict, optional
        Extra attributes of each ``<tr>``.
    """
    num = set(numeric)
    out = [f'<div class="table-wrap"><table class="{esc(cls)}"><thead><tr>']
    for j, h in enumerate(header):
        out.append(f'<th{" class=num" if j in num else ""}>{esc(h)}</th>')
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        attrs = ""
        if row_attrs is not None:
            attrs = "".join(f' {esc(k)}="{esc(v)}"' for k, v in row_attrs[i].items())
        out.append(f"<tr{attrs}>")
        for j, cell in enumerate(row):
            text = str(cell) if raw else esc(cell)
            out.append(f'<td{" class=num" if j in num else ""}>{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)
