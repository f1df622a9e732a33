"""Figure captions drawn into the image: :func:`draw_caption`."""
from __future__ import annotations

import textwrap

__all__ = ["draw_caption"]


def draw_caption(fig, text: str, width: int | None = None, fontsize: float = 7.5):
    """Write ``text`` under everything the figure shows (below its outside legends); save with
    ``bbox_inches="tight"`` so that the caption is part of the image."""
    w_in, _ = fig.get_size_inches()
    width = width or max(60, int(w_in * 72 / (fontsize * 0.55)))
    wrapped = "\n".join(textwrap.fill(par, width) for par in text.split("\n"))
    fig.canvas.draw()  # lay out, then freeze the layout so that saving does not move the legends
    fig.set_layout_engine("none")
    y = 0.0
    for leg in fig.legends:  # pin each figure legend where it is (a tight bbox would move it to the new bottom)
        x0, y0 = fig.transFigure.inverted().transform(leg.get_window_extent().p0)
        leg.set_bbox_to_anchor((x0, y0), transform=fig.transFigure)
        leg.set_loc("lower left")
        leg.set_borderaxespad(0.0) if hasattr(leg, "set_borderaxespad") else None
        y = min(y, y0)
    fig.text(0.01, y - 0.01, wrapped, ha="left", va="top", fontsize=fontsize, color="#2e3440")
    return fig
