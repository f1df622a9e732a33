"""The atlas as a job: :func:`run_atlas_job` runs the cells and writes ``atlas.md`` with its figures.

Used by ``empo-tabular atlas``.  The atlas layer (:mod:`empo_tabular.atlas`) sits below plotting, so
the figures are passed to it as ``figure_writer`` (:func:`empo_tabular.plotting.atlas.write_atlas_figures`).
"""
from __future__ import annotations

from ..atlas import run_atlas
from ..plotting.atlas import write_atlas_figures

__all__ = ["run_atlas_job"]


def run_atlas_job(spec=None, out="atlas_out", client=None, **kwargs):
    """:func:`empo_tabular.atlas.run_atlas` with the figures drawn into ``out/figures``."""
    return run_atlas(spec, out, client, figure_writer=write_atlas_figures, **kwargs)
