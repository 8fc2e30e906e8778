"""The plots render: PNG and SVG files that are not blank."""
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gasp  # noqa: E402

PKG = os.path.dirname(os.path.dirname(os.path.abspath(gasp.__file__)))


def assert_drawn(png):
    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3]
    ink = (rgb < 0.9).any(axis=2).mean()  # pixels that are not white
    assert 0.01 < ink < 0.9, ink
    # a line of some colour, not only black text and axes
    assert (rgb.max(axis=2) - rgb.min(axis=2) > 0.3).sum() > 50


def test_plot_trace_from_call(tmp_path):
    trace = []
    gasp.pagerank(nx.karate_club_graph(), tol=1e-12, max_iter=1000, trace=trace)
    out = tmp_path / "pr.png"
    fig = gasp.plot_trace(trace, output=out, title="karate")
    assert fig is not None and out.stat().st_size > 1000
    assert_drawn(out)


def test_plot_trace_files(gasp_bin, tmp_path):
    r = tmp_path / "r.tsv"
    subprocess.run([gasp_bin, "generate", "ratings", "--users", "300", "--items", "200",
                    "-o", str(r), "--quiet"], check=True)
    tr = tmp_path / "als.tsv"
    subprocess.run([gasp_bin, "als", "-i", str(r), "-k", "5", "--trace", str(tr), "--quiet"],
                   check=True)
    cols = gasp.read_trace(tr)
    assert "train_rmse" in cols and len(cols["iteration"]) == 10
    gasp.plot_trace(tr, output=tmp_path / "als.png")
    assert_drawn(tmp_path / "als.png")
    # the gasp command runs python3 -m gasp plot; an SVG by extension
    env = dict(os.environ, GASP_PYTHON=sys.executable,
               PYTHONPATH=PKG + os.pathsep + os.environ.get("PYTHONPATH", ""))
    svg = tmp_path / "als.svg"
    subprocess.run([gasp_bin, "plot", str(tr), "-o", str(svg)], check=True, env=env)
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and "<path" in svg.read_text()
    png = tmp_path / "deg.png"
    subprocess.run([gasp_bin, "plot", "--degrees", str(r), "--format", "ratings", "-o",
                    str(png)], check=True, env=env)
    assert_drawn(png)
    bad = subprocess.run([gasp_bin, "plot", str(r), "-o", str(tmp_path / "x.png")],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a gasp trace" in bad.stderr


def test_plot_degrees(tmp_path):
    G = nx.barabasi_albert_graph(2000, 3, seed=1)
    out = tmp_path / "deg.png"
    gasp.plot_degrees(G, output=out)
    assert_drawn(out)
    with pytest.raises(ValueError):
        gasp.plot_trace([{"iteration": 1, "nothing": 2}])
