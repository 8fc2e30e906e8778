"""Plots of gasp runs (matplotlib, Agg when there is no display): a
per-iteration trace (`--trace FILE` of any toolkit, or the list a call's
trace= filled) and a graph's degree distribution.  `python3 -m gasp plot
TRACE -o FILE.png|svg` (and `gasp plot`, which runs it) draws a trace.
"""
import argparse
import math
import os
import sys

import numpy as np

# columns of the trace files, by toolkit: what to draw and how
_SERIES = (
    ("residual", "residual (L1 change / labels changed)", True),
    ("train_rmse", "train RMSE", False),
    ("test_rmse", "test RMSE", False),
    ("log_likelihood_per_token", "log-likelihood per token", False),
    ("objective", "objective", False),
)


def read_trace(path):
    """A `--trace` TSV file (a header line, then one line per iteration) as
    a dict of column name -> float array."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    if not header or header[0] != "iteration":
        raise ValueError(f"{path}: not a gasp trace (no 'iteration' header)")
    cols = {}
    for j, name in enumerate(header):
        cols[name] = np.array([float(r[j]) if j < len(r) else math.nan for r in rows])
    return cols


def _columns(trace):
    if isinstance(trace, (str, bytes, os.PathLike)):
        return read_trace(trace)
    if isinstance(trace, dict):
        return {k: np.asarray(v, dtype=float) for k, v in trace.items()}
    rows = list(trace)
    if not rows:
        raise ValueError("an empty trace")
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def _figure(ax):
    import matplotlib
    if ax is not None:
        return ax.figure, ax
    if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    return fig, ax


def _finish(fig, output):
    if output is not None:
        fig.tight_layout()
        fig.savefig(os.fspath(output), dpi=100)
    return fig


def plot_trace(trace, ax=None, output=None, title=None):
    """Residual (log scale), train/test RMSE or log-likelihood per
    iteration, whichever the trace has; returns the figure."""
    cols = _columns(trace)
    it = cols.get("iteration")
    if it is None:
        raise ValueError("a trace has an 'iteration' column")
    drawn = [(k, label, log) for k, label, log in _SERIES
             if k in cols and np.isfinite(cols[k]).any()]
    if not drawn:
        raise ValueError("the trace has none of: " + ", ".join(k for k, _, _ in _SERIES))
    fig, ax = _figure(ax)
    for k, label, log in drawn:
        y = cols[k]
        if log:
            y = np.where(y > 0, y, np.nan)
            ax.set_yscale("log")
        ax.plot(it, y, marker="o", markersize=3, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel(drawn[0][1] if len(drawn) == 1 else "value")
    if len(drawn) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return _finish(fig, output)


def plot_degrees(g, ax=None, output=None, title=None):
    """Log-log histogram of the out- and in-degrees of a gasp.Graph;
    returns the figure."""
    fig, ax = _figure(ax)
    for name, deg in (("out-degree", g.out_degree), ("in-degree", g.in_degree)):
        counts = np.bincount(deg)
        d = np.flatnonzero(counts)
        d = d[d > 0]
        if d.size:
            ax.loglog(d, counts[d], marker=".", linestyle="none", label=name)
    ax.set_xlabel("degree")
    ax.set_ylabel("vertices")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title or f"{g.num_vertices:,} vertices, {g.num_edges:,} arcs")
    return _finish(fig, output)


USAGE = """usage: gasp plot TRACE -o FILE.png|FILE.svg [--title T]
       gasp plot --degrees GRAPH -o FILE.png|FILE.svg [--format F] [--symmetric]

Draws a per-iteration trace (the --trace FILE of any gasp toolkit):
residual (log scale) for pagerank, cc, sssp, labelprop, kcore ...; train
and test RMSE for als and sgd; log-likelihood per token for lda.  With
--degrees, the degree distribution of a graph (any format gasp reads).
The image type follows the output's extension.  Needs python3 with the
gasp package and matplotlib."""


def main(argv=None):
    p = argparse.ArgumentParser(prog="gasp plot", usage=USAGE.split("\n\n")[0],
                                description=USAGE.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="TRACE", help="a --trace TSV file (or a graph with --degrees)")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .svg, .pdf)")
    p.add_argument("--title")
    p.add_argument("--degrees", action="store_true", help="plot the degrees of a graph file")
    p.add_argument("--format", help="the graph's format (--degrees)")
    p.add_argument("--symmetric", action="store_true", help="add reverse arcs (--degrees)")
    a = p.parse_args(argv)
    try:
        if a.degrees:
            from . import load
            plot_degrees(load(a.input, a.format, symmetric=a.symmetric), output=a.output,
                         title=a.title)
        else:
            plot_trace(a.input, output=a.output, title=a.title)
    except (OSError, ValueError) as e:
        print(f"gasp: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # GaspError and the like: runtime failure
        print(f"gasp: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
