"""Fixtures of the gasp Python tests: small graphs, and the gasp command
of the build the extension was built against (GASP_BUILD_DIR)."""
import os
import shutil

import networkx as nx
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))


@pytest.fixture(scope="session")
def gasp_bin():
    build = os.environ.get("GASP_BUILD_DIR")
    cands = [os.path.join(build, "gasp")] if build else []
    cands += [os.path.join(TOP, d, "gasp") for d in ("_build", "_build-nocuda")]
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    found = shutil.which("gasp")
    if not found:
        pytest.skip("no gasp command (set GASP_BUILD_DIR)")
    return found


@pytest.fixture(scope="session")
def sample_path():
    return os.path.join(TOP, "data", "sample.el")


@pytest.fixture(scope="session")
def karate():
    return nx.karate_club_graph()


def random_digraph(n=300, p=0.02, seed=7, weighted=True):
    """A directed graph without repeated arcs, random weights in [0.5, 2)."""
    G = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    rng = np.random.default_rng(seed)
    if weighted:
        for u, v in G.edges():
            G[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    return G


@pytest.fixture(scope="session")
def digraph():
    return random_digraph()


@pytest.fixture(scope="session")
def graph_file(tmp_path_factory, digraph):
    """The digraph's arcs as an edge list with weights (ids 0 .. n-1)."""
    p = tmp_path_factory.mktemp("g") / "g.el"
    with open(p, "w") as f:
        for u, v, w in digraph.edges(data="weight"):
            f.write(f"{u}\t{v}\t{w!r}\n")
    return str(p)
