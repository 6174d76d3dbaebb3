"""Deprecated location of the plotting modules (one release): they live beside their front ends.

``structsparse.plots.cs`` is now :mod:`structsparse.cs.plots`, ``structsparse.plots.sysid`` is
:mod:`structsparse.sysid.plots` and ``structsparse.plots.nn`` is ``structsparse.nn.plots``. The old modules
re-export the new ones and emit a :class:`DeprecationWarning` when imported.
"""
