"""gasp: gather-apply-scatter graph analytics (libgasp) from Python.

Graphs come from a file (`load`, every format libgasp reads), numpy COO or
CSR arrays, scipy.sparse matrices and NetworkX graphs (`Graph`); one
function per toolkit returns numpy arrays indexed by vertex, or dicts keyed
by node when the input was a NetworkX graph.  Names and defaults follow
NetworkX where the two overlap (`pagerank(G, alpha=0.85, ...)`,
`core_number`, `triangles`, ...).

Every function takes `threads=` (0: all cores), `engine=` ('sync' or
'async'; None: the toolkit's default) and `np=` (ranks: pagerank, cc,
labelprop, sssp, bfs, triangles, kcore, colour, scc, closeness,
betweenness, diameter, als, sgd, nmf, jacobi and kmeans run np > 1 through
the gasp command's launcher on a snapshot of the graph (ratings, points
and right-hand sides as files); lda and personalised PageRank on one
process),
runs with the GIL released, and raises `GaspError` with the
library's message on failure.  `trace=` takes a list that receives one
dict per iteration (iteration, active, updates, residual, seconds), which
`plot_trace` draws; `stats=` a dict that receives the run's figures.

What is copied: input arrays that are C-contiguous uint64/int64 (ids,
offsets) and float64 (weights) are read by libgasp in place; others are
converted once.  libgasp always builds its own CSR/CSC from them (it
relabels, sorts and builds both directions).  Graph.indptr, .indices,
.weights, .in_indptr, .in_indices are read-only views of that structure
(no copy); results are written by the library straight into the arrays
returned.  NetworkX graphs are converted to arrays (one pass over the
edges) on every call that takes one; build a `Graph` once to reuse it.
"""
import numbers
import os

import numpy as _np

from . import _gasp
from ._gasp import GaspError

__all__ = [
    "GaspError", "ConvergenceError", "Graph", "load", "UNREACHED",
    "pagerank", "cc", "connected_components", "number_connected_components",
    "sssp", "single_source_dijkstra_path_length", "bfs",
    "single_source_shortest_path_length", "triangles", "triangle_count",
    "transitivity", "kcore", "core_number", "labelprop", "label_propagation",
    "label_propagation_communities", "als", "sgd", "lda", "Factorization",
    "TopicModel", "plot_trace", "plot_degrees", "read_trace", "version",
]

#: depth and parent of a vertex BFS does not reach (uint32 arrays)
UNREACHED = 2**32 - 1


class ConvergenceError(GaspError):
    """A power iteration stopped at max_iter before reaching tol
    (networkx's PowerIterationFailedConvergence)."""


def version():
    """The libgasp version string."""
    return _gasp.version()


# ---- graphs ---------------------------------------------------------------


def _ids(a, what):
    """Non-negative integer ids as a C-contiguous uint64 array; uint64 and
    non-negative int64 arrays are not copied."""
    a = _np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{what}: a one-dimensional array")
    if a.dtype == _np.uint64:
        return _np.ascontiguousarray(a)
    if a.size and a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and _np.all(_np.floor(a) == a):
            a = a.astype(_np.int64)
        else:
            raise TypeError(f"{what}: integer ids, not {a.dtype}")
    if a.size and a.min() < 0:
        raise ValueError(f"{what}: ids must be non-negative")
    if a.dtype == _np.int64:
        return _np.ascontiguousarray(a).view(_np.uint64)
    return a.astype(_np.uint64)


def _weights(w, m, what="weight"):
    if w is None:
        return None
    w = _np.ascontiguousarray(w, dtype=_np.float64)
    if w.shape != (m,):
        raise ValueError(f"{what}: {m} values expected, got shape {w.shape}")
    return w


def _is_networkx(obj):
    return hasattr(obj, "adj") and hasattr(obj, "is_directed") and hasattr(obj, "nodes")


def _is_scipy(obj):
    return hasattr(obj, "tocsr") and hasattr(obj, "shape") and hasattr(obj, "nnz")


class Graph:
    """A libgasp graph: directed, multi-edges and loops kept, optionally
    weighted or bipartite, vertices 0 .. num_vertices-1 (local ids).

    Graph(data) takes a path (as `load`), a NetworkX graph (nodes mapped to
    0 .. n-1 in iteration order; undirected graphs get both arcs of every
    edge), a scipy.sparse matrix (square: vertex i is row i; rectangular:
    bipartite, rows left, columns right), a (src, dst[, weight]) tuple or
    an (m, 2|3) array of edges, or another Graph.  See from_coo,
    from_csr, from_scipy, from_networkx for the options.
    """

    def __init__(self, data=None, *, weight="weight", **kw):
        if isinstance(data, Graph):
            self.__dict__.update(data.__dict__)
            return
        if data is None:
            src = _np.empty(0, _np.uint64)
            g = Graph.from_coo(src, src, **kw)
        elif isinstance(data, (str, bytes, os.PathLike)):
            g = load(data, **kw)
        elif _is_networkx(data):
            g = Graph.from_networkx(data, weight=weight, **kw)
        elif _is_scipy(data):
            g = Graph.from_scipy(data, **kw)
        elif isinstance(data, tuple) and len(data) in (2, 3):
            g = Graph.from_coo(*data, **kw)
        else:
            a = _np.asarray(data)
            if a.ndim != 2 or a.shape[1] not in (2, 3):
                raise TypeError("Graph(): a path, a networkx graph, a scipy.sparse matrix, "
                                "(src, dst[, weight]) or an (m, 2|3) edge array")
            w = a[:, 2] if a.shape[1] == 3 else None
            g = Graph.from_coo(a[:, 0], a[:, 1], w, **kw)
        self.__dict__.update(g.__dict__)

    @classmethod
    def _wrap(cls, handle, nodes=None, symmetric=False, directed=True):
        g = cls.__new__(cls)
        g._h = handle
        g.nodes = nodes  # node objects by vertex (NetworkX input), else None
        g._node_index = None
        g._ids = None
        g.symmetric = bool(symmetric)
        g.directed = bool(directed)
        return g

    @classmethod
    def from_coo(cls, src, dst, weight=None, num_vertices=None, *, symmetric=False,
                 bipartite=False, threads=0):
        """Edges src[i] -> dst[i] (non-negative integer ids), weighted when
        weight is given.  num_vertices: None gives ids 0 .. max id (so
        vertex index == id, as in scipy); 0 only the ids the edges name
        (then `ids` maps indices back); n: ids 0 .. n-1 at least.
        bipartite: sources and targets in separate id spaces (left, right;
        num_vertices counts the left).  symmetric: add every reverse arc."""
        src = _ids(src, "src")
        dst = _ids(dst, "dst")
        if src.shape != dst.shape:
            raise ValueError("src and dst: the same length")
        w = _weights(weight, src.size)
        if num_vertices is None:
            if bipartite:
                num_vertices = 0
            else:
                num_vertices = int(max(src.max(), dst.max())) + 1 if src.size else 0
        flags = ((_gasp.BUILD_SYMMETRIC if symmetric else 0) |
                 (_gasp.BUILD_BIPARTITE if bipartite else 0))
        h = _gasp.from_coo(src, dst, w, int(num_vertices), flags, threads)
        return cls._wrap(h, symmetric=symmetric, directed=not symmetric)

    @classmethod
    def from_csr(cls, indptr, indices, weight=None, *, symmetric=False, threads=0):
        """Compressed rows: vertex v has arcs to indices[indptr[v]:indptr[v+1]]
        (weights alike); every row is a vertex."""
        off = _ids(indptr, "indptr")
        nbr = _ids(indices, "indices")
        w = _weights(weight, nbr.size)
        flags = _gasp.BUILD_SYMMETRIC if symmetric else 0
        h = _gasp.from_csr(off, nbr, w, flags, threads)
        return cls._wrap(h, symmetric=symmetric, directed=not symmetric)

    @classmethod
    def from_scipy(cls, A, *, weighted=None, symmetric=False, threads=0):
        """A scipy.sparse matrix: entry (i, j) is the arc i -> j with weight
        A[i, j] (unweighted for a boolean matrix or weighted=False).  CSR
        int64 index arrays and float64 data are read in place; scipy's
        usual int32 indices are widened (a copy)."""
        rows, cols = A.shape
        w_on = A.dtype != _np.bool_ if weighted is None else weighted
        if rows == cols:
            A = A.tocsr()
            w = A.data if w_on else None
            return cls.from_csr(A.indptr, A.indices, w, symmetric=symmetric, threads=threads)
        A = A.tocoo()
        return cls.from_coo(A.row, A.col, A.data if w_on else None, rows, bipartite=True,
                            threads=threads)

    @classmethod
    def from_networkx(cls, G, weight="weight", *, threads=0):
        """A NetworkX graph: node k of list(G) is vertex k; arcs weighted by
        the edge attribute `weight` (1 where missing; unweighted when no
        edge has it or weight is None); an undirected graph gets both arcs
        of every edge (one for a self loop)."""
        nodes = list(G)
        index = {u: i for i, u in enumerate(nodes)}
        m = G.number_of_edges()
        src = _np.empty(m, _np.uint64)
        dst = _np.empty(m, _np.uint64)
        w = None
        if weight is None:
            for i, (u, v) in enumerate(G.edges()):
                src[i] = index[u]
                dst[i] = index[v]
        else:
            w = _np.empty(m, _np.float64)
            has = False
            for i, (u, v, x) in enumerate(G.edges(data=weight)):
                src[i] = index[u]
                dst[i] = index[v]
                if x is None:
                    x = 1.0
                else:
                    has = True
                w[i] = x
            if not has:
                w = None
        undirected = not G.is_directed()
        flags = _gasp.BUILD_SYMMETRIC if undirected else 0
        h = _gasp.from_coo(src, dst, w, len(nodes), flags, threads)
        return cls._wrap(h, nodes=nodes, symmetric=undirected, directed=G.is_directed())

    # -- sizes and structure -------------------------------------------------

    num_vertices = property(lambda self: self._h.num_vertices, doc="vertices")
    num_edges = property(lambda self: self._h.num_edges, doc="arcs (both of an undirected edge)")
    weighted = property(lambda self: self._h.weighted, doc="has edge weights")
    bipartite = property(lambda self: self._h.bipartite, doc="left and right id spaces")
    num_left = property(lambda self: self._h.num_left, doc="left-side vertices (bipartite)")

    def __len__(self):
        return self.num_vertices

    def __repr__(self):
        kind = ("bipartite " if self.bipartite else "") + ("weighted " if self.weighted else "")
        return f"<gasp.Graph {kind}{self.num_vertices} vertices, {self.num_edges} arcs>"

    def _view(self, name, dtype):
        v = self._h._array(name)
        return None if v is None else _np.frombuffer(v, dtype=dtype)

    @property
    def indptr(self):
        """Out-edge CSR offsets (uint64, num_vertices + 1), read-only, no copy."""
        return self._view("out_off", _np.uint64)

    @property
    def indices(self):
        """Out-neighbours (uint32 vertex indices), each row sorted; no copy."""
        return self._view("out_nbr", _np.uint32)

    @property
    def weights(self):
        """Weights in CSR order (float64), None when unweighted; no copy."""
        return self._view("weights", _np.float64)

    @property
    def in_indptr(self):
        return self._view("in_off", _np.uint64)

    @property
    def in_indices(self):
        return self._view("in_nbr", _np.uint32)

    @property
    def out_degree(self):
        """Out-degree of every vertex (int64)."""
        return _np.diff(self.indptr).astype(_np.int64)

    @property
    def in_degree(self):
        return _np.diff(self.in_indptr).astype(_np.int64)

    @property
    def degree(self):
        """Arcs at each vertex: out-degree for an undirected (symmetric)
        graph, out + in otherwise (networkx's degree, loops aside)."""
        return self.out_degree if self.symmetric else self.out_degree + self.in_degree

    @property
    def ids(self):
        """The original id of every vertex (uint64; within its side for a
        bipartite graph); for NetworkX input the vertex index."""
        if self._ids is None:
            ids = _np.empty(self.num_vertices, _np.uint64)
            self._h._ids(ids)
            ids.flags.writeable = False
            self._ids = ids
        return self._ids

    @property
    def names(self):
        """Vertex names (a corpus's vocabulary) as a list, or None."""
        return self._h._names()

    def edges(self):
        """(src, dst) vertex indices of every arc in CSR order, with the
        weights as a third array when weighted; dst is a view, no copy."""
        src = _np.repeat(_np.arange(self.num_vertices, dtype=_np.uint32), self.out_degree)
        w = self.weights
        return (src, self.indices) if w is None else (src, self.indices, w)

    def to_scipy(self):
        """The adjacency as a scipy.sparse.csr_matrix (weights or ones)."""
        import scipy.sparse as sp
        n = self.num_vertices
        w = self.weights
        data = _np.ones(self.num_edges) if w is None else w
        return sp.csr_matrix((data, self.indices, self.indptr.astype(_np.int64)), shape=(n, n))

    def info(self, threads=0):
        """`gasp info`'s figures: sizes, loops, duplicates, degrees."""
        return self._h._stats(threads)

    def save(self, path):
        """Write a binary snapshot (reloads fast with load/gasp -i)."""
        self._h.save(os.fspath(path))

    def indexed(self):
        """The same graph (shared, no copy) with results as arrays by
        vertex index, also for NetworkX input (nodes[i] is vertex i)."""
        return Graph._wrap(self._h, symmetric=self.symmetric, directed=self.directed)

    def index(self, node):
        """The vertex index of a node (NetworkX input) or original id."""
        if self.nodes is not None:
            if self._node_index is None:
                self._node_index = {u: i for i, u in enumerate(self.nodes)}
            try:
                return self._node_index[node]
            except KeyError:
                raise KeyError(f"node {node!r} is not in the graph") from None
        if not isinstance(node, numbers.Integral) or node < 0:
            raise KeyError(f"vertex {node!r}: a non-negative integer id")
        ids = self.ids
        hi = self.num_left if self.bipartite else len(ids)
        i = int(_np.searchsorted(ids[:hi], _np.uint64(node)))  # no cast of ids
        if i >= hi or ids[i] != node:
            raise KeyError(f"vertex {node} is not in the graph")
        return i

    # results: arrays by vertex, or dicts by node for NetworkX input
    def _by_node(self, values, vertex_valued=False, keep=None):
        if self.nodes is None:
            return values
        vals = values.tolist()
        if vertex_valued:
            nodes = self.nodes
            vals = [nodes[x] if 0 <= x < len(nodes) else None for x in vals]
        if keep is None:
            return dict(zip(self.nodes, vals))
        return {u: x for u, x, k in zip(self.nodes, vals, keep.tolist()) if k}


def load(path, format=None, weighted=None, symmetric=False, *, bipartite=False, vocab=None,
         threads=0):
    """A graph from a file in any format libgasp reads (edgelist/snap,
    adj, mtx, uci, ldac, triples, ratings, corpus, a .gasp snapshot; gzip
    transparently); format None detects it.  weighted None keeps a weight
    column when the file has one.  symmetric adds every reverse arc (an
    undirected graph).  Vertices are the ids in the file in ascending
    order; `ids` maps vertex indices back."""
    w = -1 if weighted is None else int(bool(weighted))
    h = _gasp.load(os.fspath(path), format, w, bool(symmetric), bool(bipartite), vocab,
                   int(threads))
    return Graph._wrap(h, symmetric=symmetric, directed=not symmetric)


# ---- common plumbing ------------------------------------------------------


def _graph(G, weight="weight"):
    if isinstance(G, Graph):
        return G
    if _is_networkx(G):
        return Graph.from_networkx(G, weight=weight)
    return Graph(G)


def _engine(threads, engine, max_iter=None, consistency=None, scheduler=None):
    if threads is None:
        threads = 0
    if not isinstance(threads, numbers.Integral):
        raise TypeError("threads: an integer")
    return (int(threads), engine, consistency, scheduler,
            -1 if max_iter is None else int(max_iter))


def _nranks(np):
    if np is None:
        return 1
    if not isinstance(np, numbers.Integral) or np < 1:
        raise ValueError("np: a positive number of ranks")
    return int(np)


def _gasp_command():
    """The gasp command that runs ranks: $GASP_BIN, $GASP_BUILD_DIR/gasp, or
    gasp on the PATH."""
    import shutil
    build = os.environ.get("GASP_BUILD_DIR")
    for c in (os.environ.get("GASP_BIN"), os.path.join(build, "gasp") if build else None,
              shutil.which("gasp")):
        if c and os.access(c, os.X_OK):
            return c
    raise GaspError("np > 1 runs the gasp command (its --np launcher), and none was "
                    "found: set GASP_BIN or put gasp on the PATH")


def _run_command(cmd, args, nr, threads):
    """Runs `gasp CMD ARGS --np NR --json --quiet`; its JSON summary."""
    import json
    import subprocess
    argv = [_gasp_command(), cmd] + [str(a) for a in args] + ["--np", str(nr), "--json",
                                                                "--quiet"]
    if threads:
        argv += ["-t", str(int(threads))]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        raise GaspError(lines[0] if lines else f"gasp {cmd} --np {nr}: exit {r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _write_triples(g, path, weight_fmt):
    """g's arcs as 'src dst weight' lines of original ids (ratings, corpora)."""
    src, dst, w = g.edges()
    ids = g.ids
    _np.savetxt(path, _np.column_stack([ids[src].astype(_np.float64),
                                        ids[dst].astype(_np.float64), w]),
                fmt=["%d", "%d", weight_fmt], delimiter="\t")


def _across_ranks(g, np, cmd, args, threads, engine):
    """Runs `gasp CMD --np NP` over g (written as a snapshot to a private
    temporary folder) and returns the output's columns after the id, as
    lists of strings in g's vertex order."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
        snap = os.path.join(d, "g.gasp")
        out = os.path.join(d, "out.tsv")
        g.save(snap)
        _run_command(cmd, ["-i", snap, "-o", out] + (["--engine", engine] if engine else [])
                     + list(args), np, threads)
        with open(out) as f:
            rows = [x.split("\t") for x in f.read().splitlines()]
    if len(rows) != g.num_vertices:
        raise GaspError(f"gasp {cmd} --np {np}: {len(rows)} rows for {g.num_vertices} vertices")
    ids = _np.array([int(x[0]) for x in rows], dtype=_np.uint64)
    order = _np.arange(len(rows))
    if not _np.array_equal(ids, g.ids):
        where = {int(v): i for i, v in enumerate(ids.tolist())}
        order = _np.array([where[int(v)] for v in g.ids.tolist()])
    width = len(rows[0]) if rows else 1
    return [[rows[i][k] for i in order.tolist()] for k in range(1, width)]


def _id_index(g, col):
    """Original ids (strings) to vertex indices (uint32)."""
    ids = g.ids
    if ids.size and _np.all(ids[1:] > ids[:-1]):
        return _np.searchsorted(ids, _np.array(col, dtype=_np.uint64)).astype(_np.uint32)
    where = {int(v): i for i, v in enumerate(ids.tolist())}
    return _np.array([where[int(x)] for x in col], dtype=_np.uint32)


class _Trace:
    """Collects the per-iteration tuples and turns them into dicts."""
    keys = ("iteration", "active", "updates", "residual", "seconds")

    def __init__(self, out):
        self.out = out
        self.raw = [] if out is not None else None

    def done(self, stats_out, st):
        if self.out is not None:
            self.out.extend(dict(zip(self.keys, t)) for t in self.raw)
        if stats_out is not None:
            stats_out.update(st)


def _source(g, source):
    return g.index(source)


# ---- PageRank -------------------------------------------------------------


def pagerank(G, alpha=0.85, personalization=None, max_iter=100, tol=1.0e-6, nstart=None,
             weight="weight", dangling=None, *, damping=None, threads=0, engine=None, np=None,
             trace=None, stats=None):
    """PageRank, as networkx.pagerank: damping alpha, teleport to the
    personalization (a dict by node or an array by vertex; uniform when
    None), dangling rank spread over it, ranks summing to 1; weighted by
    the edge weights when the graph has them and weight is not None.
    Stops when the L1 change falls below num_vertices * tol (networkx's
    test), ConvergenceError after max_iter iterations.  nstart is accepted
    and not used (the fixed point does not depend on it).  engine='async'
    runs delta PageRank.  damping is the command's name for alpha (it
    wins when given)."""
    nr = _nranks(np)
    if damping is not None:
        alpha = damping
    if dangling is not None:
        raise NotImplementedError("dangling: gasp spreads dangling rank over the personalization")
    g = _graph(G, weight)
    n = g.num_vertices
    ranks = _np.empty(n, _np.float64)
    if n == 0:
        return g._by_node(ranks)
    if nr > 1:
        args = ["--damping", repr(float(alpha)), "--tol", repr(float(tol) * n),
                "--max-iter", int(max_iter)]
        if personalization is not None:  # the command's --personalized set
            if isinstance(personalization, dict):
                p = _np.zeros(n)
                for k, v in personalization.items():
                    p[g.index(k)] = v
            else:
                p = _weights(personalization, n, "personalization")
            on = _np.flatnonzero(p)
            if on.size == 0 or not _np.all(p[on] == p[on[0]]):
                raise NotImplementedError(
                    "np > 1 takes a personalization of equal weights over a set of nodes "
                    "(the command's --personalized); run other weights on one process")
            args += ["--personalized", ",".join(str(int(x)) for x in g.ids[on])]
        if weight is None or not g.weighted:
            args.append("--unweighted")
        (col,) = _across_ranks(g, nr, "pagerank", args, threads, engine)
        return g._by_node(_np.array(col, dtype=_np.float64))
    tele = None
    if personalization is not None:
        if isinstance(personalization, dict):
            tele = _np.zeros(n)
            for k, v in personalization.items():
                tele[g.index(k)] = v
        else:
            tele = _weights(personalization, n, "personalization")
    t = _Trace(trace)
    st = _gasp.pagerank(g._h, ranks, float(alpha), float(tol) * n, tele,
                        weight is not None and g.weighted, _engine(threads, engine, max_iter),
                        t.raw)
    t.done(stats, st)
    if st["reason"] == "max_iter":
        raise ConvergenceError(f"pagerank: no convergence to tol in {max_iter} iterations")
    return g._by_node(ranks)


# ---- components and communities --------------------------------------------


_CC_ALGORITHMS = {"auto": _gasp.CC_AUTO, "afforest": _gasp.CC_AFFOREST,
                  "labelprop": _gasp.CC_LABELPROP}


def cc(G, *, algorithm="auto", seed=1, threads=0, engine=None, np=None, trace=None,
       stats=None):
    """Weakly connected components: each vertex's component label, the
    smallest vertex index in it (uint32 array), or for NetworkX input a
    dict node -> the component's first node.  algorithm: 'auto' (Afforest
    on the sync engine), 'afforest', 'labelprop'."""
    nr = _nranks(np)
    g = _graph(G, None)
    if algorithm not in _CC_ALGORITHMS:
        raise ValueError(f"algorithm: one of {sorted(_CC_ALGORITHMS)}")
    if nr > 1:  # across ranks: label propagation, the same components
        (col,) = _across_ranks(g, nr, "cc", ["--algorithm", "labelprop"], threads, engine)
        return g._by_node(_id_index(g, col), vertex_valued=True)
    out = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st = _gasp.cc(g._h, out, _CC_ALGORITHMS[algorithm], seed, _engine(threads, engine), t.raw)
    t.done(stats, st)
    return g._by_node(out, vertex_valued=True)


def _groups(g, labels):
    order = _np.argsort(labels, kind="stable")
    cuts = _np.flatnonzero(_np.diff(labels[order])) + 1
    parts = _np.split(order, cuts) if len(order) else []
    if g.nodes is None:
        return [p.astype(_np.uint32) for p in parts]
    nodes = g.nodes
    return [{nodes[i] for i in p.tolist()} for p in parts]


def connected_components(G, **kw):
    """The weakly connected components: a list of sets of nodes (NetworkX
    input) or of arrays of vertex indices, as networkx's generator."""
    g = _graph(G, None)
    kw.pop("weight", None)
    return _groups(g, cc(g if g.nodes is None else g.indexed(), **kw))


def number_connected_components(G, **kw):
    g = _graph(G, None)
    return int(_np.unique(cc(g.indexed(), **kw)).size)


def labelprop(G, *, threads=0, engine=None, max_iter=None, np=None, trace=None, stats=None):
    """Deterministic label propagation (Raghavan et al., ties kept or to the
    smallest label): each vertex's community label, a vertex index (a node
    for NetworkX input).  By default the async engine's chromatic schedule
    (converges; the same labels as `gasp labelprop` for any threads)."""
    nr = _nranks(np)
    g = _graph(G, "weight")
    if nr > 1:  # sync rounds: one process's labels
        (col,) = _across_ranks(g, nr, "labelprop", [], threads, engine or "sync")
        return g._by_node(_id_index(g, col), vertex_valued=True)
    out = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st = _gasp.labelprop(g._h, out, _engine(threads, engine, max_iter), t.raw)
    t.done(stats, st)
    return g._by_node(out, vertex_valued=True)


label_propagation = labelprop


def label_propagation_communities(G, **kw):
    """The communities of `labelprop` as a list of sets (or arrays)."""
    g = _graph(G, "weight")
    return _groups(g, labelprop(g.indexed(), **kw))


# ---- paths ------------------------------------------------------------------


def sssp(G, source, weight="weight", *, directed=True, threads=0, engine=None, np=None,
         trace=None, stats=None):
    """Shortest path lengths from source (a node, or an original id) over
    non-negative weights (1 per arc when unweighted or weight is None):
    a float64 array by vertex with inf where unreachable, or for NetworkX
    input a dict of the reachable nodes (networkx's
    single_source_dijkstra_path_length).  directed=False follows arcs both
    ways."""
    nr = _nranks(np)
    g = _graph(G, weight)
    s = _source(g, source)
    if nr > 1:
        args = ["--source", int(g.ids[s])]
        if directed:
            args.append("--directed")
        if weight is None:
            args.append("--unweighted")
        (col,) = _across_ranks(g, nr, "sssp", args, threads, engine)
        d = _np.array([_np.inf if x == "inf" else float(x) for x in col])
        return d if g.nodes is None else g._by_node(d, keep=_np.isfinite(d))
    if weight is None and g.weighted:
        # unit weights: the BFS depths are the distances
        depth = _np.empty(g.num_vertices, _np.uint32)
        t = _Trace(trace)
        st = _gasp.bfs(g._h, s, depth, None, not directed, _engine(threads, engine), t.raw)
        t.done(stats, st)
        d = depth.astype(_np.float64)
        d[depth == UNREACHED] = _np.inf
    else:
        d = _np.empty(g.num_vertices, _np.float64)
        t = _Trace(trace)
        st = _gasp.sssp(g._h, s, d, bool(directed), _engine(threads, engine), t.raw)
        t.done(stats, st)
    return d if g.nodes is None else g._by_node(d, keep=_np.isfinite(d))


def single_source_dijkstra_path_length(G, source, cutoff=None, weight="weight", **kw):
    """networkx's name for sssp (cutoff: drop the farther nodes)."""
    d = sssp(G, source, weight, **kw)
    if cutoff is None:
        return d
    if isinstance(d, dict):
        return {u: x for u, x in d.items() if x <= cutoff}
    return _np.where(d <= cutoff, d, _np.inf)


def bfs(G, source, *, directed=True, parents=False, threads=0, engine=None, np=None,
        trace=None, stats=None):
    """Breadth-first depths from source (a node, or an original id, as
    `gasp bfs --source`; direction-optimising): a uint32
    array by vertex with UNREACHED where unreachable, or for NetworkX input
    a dict of the reachable nodes (networkx's
    single_source_shortest_path_length).  parents=True returns (depth,
    parent), the parent the smallest vertex one level up (the source its
    own).  directed=False follows arcs both ways."""
    nr = _nranks(np)
    g = _graph(G, None)
    s = _source(g, source)
    if nr > 1:
        args = ["--source", int(g.ids[s])] + ([] if directed else ["--undirected"])
        dcol, pcol = _across_ranks(g, nr, "bfs", args, threads, engine)
        depth = _np.array([UNREACHED if x == "inf" else int(x) for x in dcol], _np.uint32)
        reached = [p for p in pcol if p != "-"]
        parent = _np.full(g.num_vertices, UNREACHED, _np.uint32)
        if reached:
            parent[depth != UNREACHED] = _id_index(g, reached)
        parent = parent if parents else None
    else:
        depth = _np.empty(g.num_vertices, _np.uint32)
        parent = _np.empty(g.num_vertices, _np.uint32) if parents else None
        t = _Trace(trace)
        st = _gasp.bfs(g._h, s, depth, parent, not directed, _engine(threads, engine), t.raw)
        t.done(stats, st)
    if g.nodes is None:
        return (depth, parent) if parents else depth
    keep = depth != UNREACHED
    d = g._by_node(depth, keep=keep)
    if not parents:
        return d
    return d, g._by_node(parent, vertex_valued=True, keep=keep)


def single_source_shortest_path_length(G, source, cutoff=None, **kw):
    """networkx's name for bfs depths (cutoff: drop the deeper nodes)."""
    d = bfs(G, source, **kw)
    if cutoff is None:
        return d
    if isinstance(d, dict):
        return {u: x for u, x in d.items() if x <= cutoff}
    return _np.where(d <= cutoff, d, UNREACHED).astype(_np.uint32)


# ---- triangles and cores ------------------------------------------------------


def _triangles(G, threads, engine, trace, stats, per_vertex=True):
    g = _graph(G, None)
    out = _np.empty(g.num_vertices, _np.uint64) if per_vertex else None
    t = _Trace(trace)
    st, totals = _gasp.triangles(g._h, out, _engine(threads, engine), t.raw)
    st.update(totals)
    t.done(stats, st)
    return g, out, totals


def triangles(G, nodes=None, *, threads=0, engine=None, np=None, trace=None, stats=None):
    """Triangles at each vertex of the graph taken as undirected (loops and
    repeated edges ignored): a uint64 array, or a dict by node (networkx's
    triangles; nodes: a node gives its count, an iterable a sub-dict)."""
    nr = _nranks(np)
    if nr > 1:
        g = _graph(G, None)
        (col,) = _across_ranks(g, nr, "triangles", [], threads, engine)
        out = _np.array(col, dtype=_np.uint64)
    else:
        g, out, _ = _triangles(G, threads, engine, trace, stats)
    if nodes is None:
        return g._by_node(out)
    if nodes in g.nodes if g.nodes is not None else isinstance(nodes, numbers.Integral):
        return int(out[g.index(nodes)])
    res = {u: int(out[g.index(u)]) for u in nodes}
    return res


def _triangle_totals(G, threads, engine, np, stats):
    nr = _nranks(np)
    if nr == 1:
        return _triangles(G, threads, engine, None, stats, per_vertex=False)[2]
    import tempfile
    g = _graph(G, None)
    with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
        snap = os.path.join(d, "g.gasp")
        g.save(snap)
        j = _run_command("triangles", ["-i", snap] + (["--engine", engine] if engine else []),
                         nr, threads)
    if stats is not None:
        stats.update(j)
    return {"triangles": int(j["triangles"]), "wedges": int(j["wedges"]),
            "edges": int(j["undirected_edges"])}


def triangle_count(G, *, threads=0, engine=None, np=None, stats=None):
    """The number of triangles of the graph taken as undirected."""
    return int(_triangle_totals(G, threads, engine, np, stats)["triangles"])


def transitivity(G, *, threads=0, engine=None, np=None):
    """3 triangles / wedges (networkx's transitivity)."""
    tot = _triangle_totals(G, threads, engine, np, None)
    return 3.0 * tot["triangles"] / tot["wedges"] if tot["wedges"] else 0.0


def kcore(G, *, threads=0, engine=None, max_iter=None, np=None, trace=None, stats=None):
    """Core numbers of the graph taken as undirected (loops and repeated
    edges ignored): a uint32 array, or a dict by node (networkx's
    core_number)."""
    nr = _nranks(np)
    g = _graph(G, None)
    if nr > 1:
        (col,) = _across_ranks(g, nr, "kcore", [], threads, engine)
        return g._by_node(_np.array(col, dtype=_np.uint32))
    out = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st = _gasp.kcore(g._h, out, _engine(threads, engine, max_iter), t.raw)
    t.done(stats, st)
    return g._by_node(out)


core_number = kcore


# ---- colouring, strong components, centralities, diameter ----------------

_COLOUR_ORDERS = {"degree": 0, "random": 1, "natural": 2, "saturation": 3}
_NX_STRATEGIES = {"largest_first": "degree", "random_sequential": "random",
                  "saturation_largest_first": "saturation", "DSATUR": "saturation"}


def colour(G, order="degree", *, seed=1, threads=0, engine=None, max_iter=None, np=None,
           trace=None, stats=None):
    """Greedy colouring of the graph taken as undirected: each vertex the
    smallest colour its neighbours earlier in the order lack.  order:
    'degree' (largest first, ties by a hash of id and seed), 'random',
    'natural' (ascending id), 'saturation' (DSatur).  A uint32 array, or a
    dict node -> colour (networkx.greedy_color's result)."""
    nr = _nranks(np)
    if order not in _COLOUR_ORDERS:
        raise ValueError(f"order: one of {sorted(_COLOUR_ORDERS)}")
    g = _graph(G, None)
    if nr > 1:
        (col,) = _across_ranks(g, nr, "colour", ["--order", order, "--seed", int(seed)],
                               threads, engine)
        return g._by_node(_np.array(col, dtype=_np.uint32))
    out = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st, used = _gasp.colour(g._h, out, _COLOUR_ORDERS[order], int(seed),
                            _engine(threads, engine, max_iter), t.raw)
    st["colours"] = used
    t.done(stats, st)
    return g._by_node(out)


color = colour


def greedy_color(G, strategy="largest_first", **kw):
    """networkx.greedy_color's strategies that gasp has: largest_first,
    random_sequential, saturation_largest_first (DSATUR)."""
    if strategy not in _NX_STRATEGIES:
        raise ValueError(f"strategy: one of {sorted(_NX_STRATEGIES)}")
    return colour(G, _NX_STRATEGIES[strategy], **kw)


def scc(G, *, threads=0, engine=None, max_iter=None, np=None, trace=None, stats=None):
    """Strongly connected components: each vertex's component, named by
    the largest vertex index in it (a node for NetworkX input)."""
    nr = _nranks(np)
    g = _graph(G, None)
    if nr > 1:
        (col,) = _across_ranks(g, nr, "scc", [], threads, engine)
        return g._by_node(_id_index(g, col), vertex_valued=True)
    out = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st, count = _gasp.scc(g._h, out, _engine(threads, engine, max_iter), t.raw)
    st["components"] = count
    t.done(stats, st)
    return g._by_node(out, vertex_valued=True)


def strongly_connected_components(G, **kw):
    """The strongly connected components: a list of sets of nodes (NetworkX
    input) or of arrays of vertex indices."""
    g = _graph(G, None)
    return _groups(g, scc(g if g.nodes is None else g.indexed(), **kw))


def closeness(G, *, harmonic=False, samples=None, seed=1, threads=0, engine=None, np=None,
              trace=None, stats=None):
    """Closeness from hop distances into each vertex (NetworkX's convention
    for directed graphs): Wasserman-Faust (networkx.closeness_centrality)
    or harmonic (networkx.harmonic_centrality); exact, or estimated from
    `samples` sources drawn for `seed`."""
    nr = _nranks(np)
    g = _graph(G, None)
    if nr > 1:
        args = (["--samples", int(samples), "--seed", int(seed)] if samples else ["--exact"])
        if harmonic:
            args.append("--harmonic")
        (col,) = _across_ranks(g, nr, "closeness", args, threads, engine)
        return g._by_node(_np.array(col, dtype=_np.float64))
    out = _np.empty(g.num_vertices, _np.float64)
    t = _Trace(trace)
    st = _gasp.closeness(g._h, out, bool(harmonic), False, int(samples or 0), int(seed),
                         _engine(threads, engine), t.raw)
    t.done(stats, st)
    return g._by_node(out)


def closeness_centrality(G, **kw):
    return closeness(G, **kw)


def harmonic_centrality(G, **kw):
    return closeness(G, harmonic=True, **kw)


_BC_NORMS = {False: 0, "max": 1, True: 2}


def betweenness_centrality(G, k=None, normalized=True, *, seed=1, threads=0, engine=None,
                           np=None, trace=None, stats=None):
    """Betweenness by Brandes' algorithm, as networkx.betweenness_centrality
    (normalized: networkx 3's scaling; False: the plain sum over ordered
    pairs, which networkx halves for undirected graphs; 'max': divided by
    the largest); k sources drawn for `seed` when given."""
    nr = _nranks(np)
    if normalized not in _BC_NORMS:
        raise ValueError("normalized: True, False or 'max'")
    g = _graph(G, None)
    if nr > 1:
        norm = {0: "none", 1: "max", 2: "networkx"}[_BC_NORMS[normalized]]
        args = ["--normalize", norm] + (["--samples", int(k), "--seed", int(seed)] if k else [])
        (col,) = _across_ranks(g, nr, "bc", args, threads, engine)
        return g._by_node(_np.array(col, dtype=_np.float64))
    out = _np.empty(g.num_vertices, _np.float64)
    t = _Trace(trace)
    st = _gasp.bc(g._h, out, False, int(k or 0), int(seed), _BC_NORMS[normalized],
                  _engine(threads, engine), t.raw)
    t.done(stats, st)
    return g._by_node(out)


bc = betweenness_centrality


def diameter_info(G, exact=False, *, bits=6, seed=1, threads=0, engine=None, max_iter=None,
                  np=None, trace=None, stats=None):
    """The diameter by HyperANF (a lower bound, the effective diameter,
    the reachable pairs and the counters' relative standard error) or,
    exact, from a search from every vertex (diameter, radius): a dict, with
    'eccentricity' the per-vertex array (exact) or lower bounds."""
    nr = _nranks(np)
    g = _graph(G, None)
    if nr > 1:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
            snap, out = os.path.join(d, "g.gasp"), os.path.join(d, "ecc.tsv")
            g.save(snap)
            args = ["-i", snap, "-o", out, "--seed", int(seed)]
            args += ["--exact"] if exact else ["--bits", int(bits)]
            if max_iter is not None and not exact:
                args += ["--max-iter", int(max_iter)]
            j = _run_command("diameter", args, nr, threads)
            rows = _np.loadtxt(out, dtype=_np.uint64, ndmin=2)
        ecc = _np.empty(g.num_vertices, _np.uint32)
        ecc[_id_index(g, rows[:, 0].tolist())] = rows[:, 1]
        reg = int(j.get("registers", 0))
        info = {"exact": int(bool(exact)),
                "diameter": int(j.get("diameter", j.get("diameter_lower_bound", 0))),
                "radius": int(j.get("radius", 0)),
                "effective": float(j["effective_diameter"]), "pairs": float(j["pairs"]),
                "rse": float(j.get("relative_std_error", 0.0)), "registers": reg,
                "eccentricity": g._by_node(ecc)}
        return info
    ecc = _np.empty(g.num_vertices, _np.uint32)
    t = _Trace(trace)
    st, info = _gasp.diameter(g._h, ecc, bool(exact), False, int(bits), int(seed),
                              _engine(threads, engine, max_iter), t.raw)
    t.done(stats, st)
    info["eccentricity"] = g._by_node(ecc)
    return info


def diameter(G, **kw):
    """The exact diameter (networkx.diameter): the largest finite distance."""
    return diameter_info(G, exact=True, **kw)["diameter"]


def eccentricity(G, **kw):
    """Each vertex's eccentricity (networkx.eccentricity; finite distances
    only)."""
    return diameter_info(G, exact=True, **kw)["eccentricity"]


# ---- matrix factorization -------------------------------------------------------


class Factorization:
    """Factors of a ratings matrix: user_ids / item_ids (the original ids,
    ascending), user_factors / item_factors (float32, one row each; views
    of one array), and for biased SGD mean, user_bias, item_bias."""

    def __init__(self, g, factors, bias, info, stats):
        nl = g.num_left
        self.user_ids = g.ids[:nl]
        self.item_ids = g.ids[nl:]
        self.user_factors = factors[:nl]
        self.item_factors = factors[nl:]
        self.user_bias = None if bias is None else bias[:nl]
        self.item_bias = None if bias is None else bias[nl:]
        self.biased = bias is not None
        self.mean = info["mean"]
        self.min_rating = info["min_rating"]
        self.max_rating = info["max_rating"]
        self.train_rmse = info["train_rmse"]
        self.stats = stats

    def _rows(self, ids, known):
        ids = _np.asarray(ids, dtype=_np.uint64)
        i = _np.searchsorted(known, ids)
        i = _np.minimum(i, max(len(known) - 1, 0))
        ok = known[i] == ids if len(known) else _np.zeros(ids.shape, bool)
        return i, ok

    def predict(self, users, items):
        """Predicted ratings of (user, item) id pairs, clamped to the
        training range; unknown users or items predict the mean (biased:
        plus the known bias)."""
        ui, uok = self._rows(users, self.user_ids)
        ii, iok = self._rows(items, self.item_ids)
        both = uok & iok
        p = _np.einsum("ij,ij->i", self.user_factors[ui].astype(_np.float64),
                       self.item_factors[ii].astype(_np.float64))
        if self.biased:
            p += self.mean + _np.where(uok, self.user_bias[ui], 0) + _np.where(iok, self.item_bias[ii], 0)
            p = _np.where(both, p, self.mean + _np.where(uok, self.user_bias[ui], 0) +
                          _np.where(iok, self.item_bias[ii], 0))
        else:
            p = _np.where(both, p, self.mean)
        return _np.clip(p, self.min_rating, self.max_rating)

    def rmse(self, users, items, ratings):
        r = _np.asarray(ratings, dtype=_np.float64)
        return float(_np.sqrt(_np.mean((self.predict(users, items) - r) ** 2)))


def _columns(frame, names):
    """(a, b, c) from a tuple, an (m, 3) array or a frame with columns."""
    if isinstance(frame, tuple) and len(frame) == 3:
        return frame
    if hasattr(frame, "columns") or (hasattr(frame, "dtype") and frame.dtype.names):
        cols = list(frame.columns) if hasattr(frame, "columns") else list(frame.dtype.names)
        picked = []
        for want in names:
            hit = [c for c in cols if str(c).lower() in want]
            picked.append(_np.asarray(frame[hit[0]]) if hit else None)
        if all(p is not None for p in picked):
            return tuple(picked)
        return tuple(_np.asarray(frame[c]) for c in cols[:3])
    a = _np.asarray(frame)
    if a.ndim == 2 and a.shape[1] >= 3:
        return a[:, 0], a[:, 1], a[:, 2]
    raise TypeError("a (a, b, c) tuple of arrays, an (m, 3) array, a frame or a path")


_RATING_NAMES = (("user", "userid", "user_id", "u"), ("item", "itemid", "item_id", "movie",
                                                      "movieid", "movie_id", "i"),
                 ("rating", "ratings", "r", "score", "value"))


def _ratings_graph(ratings, threads):
    if isinstance(ratings, Graph):
        return ratings
    if isinstance(ratings, (str, bytes, os.PathLike)):
        return load(ratings, "ratings", threads=threads)
    u, i, r = _columns(ratings, _RATING_NAMES)
    return Graph.from_coo(u, i, _np.asarray(r, dtype=_np.float64), 0, bipartite=True,
                          threads=threads)


def _mf_across_ranks(g, nr, cmd, args, rank, biased, threads):
    """`gasp als|sgd|nmf --np NR` over the ratings of g (written as a
    ratings file to a private temporary folder): (factors, bias, info)
    in g's vertex order, from the model the command writes."""
    import tempfile
    nl = g.num_left
    ids = g.ids
    with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
        path = os.path.join(d, "ratings.tsv")
        _write_triples(g, path, "%.17g")
        pre = os.path.join(d, "m")
        summary = _run_command(cmd, ["-i", path, "-o", pre, "-k", int(rank)] + list(args), nr,
                               threads)
        model = dict(x.split("\t", 1) for x in open(pre + ".model").read().splitlines()
                     if "\t" in x)
        factors = _np.zeros((g.num_vertices, int(rank)), _np.float32)
        bias = _np.zeros(g.num_vertices, _np.float32) if biased else None
        for side, base in (("users", 0), ("items", nl)):
            rows = _np.loadtxt(pre + f".{side}.tsv", dtype=_np.float64, ndmin=2)
            known = ids[base:] if side == "items" else ids[:nl]
            at = base + _np.searchsorted(known, rows[:, 0].astype(_np.uint64))
            factors[at] = rows[:, 1:1 + int(rank)]
            if biased:
                bias[at] = rows[:, 1 + int(rank)]
    info = {"mean": float(model["mean"]), "min_rating": float(model["min_rating"]),
            "max_rating": float(model["max_rating"]),
            "train_rmse": float(summary.get("train_rmse", "nan"))}
    return factors, bias, info, summary


def als(ratings, rank=20, lambda_=0.1, max_iter=10, *, alpha=0.0, seed=1, threads=0,
        engine=None, np=None, trace=None, stats=None):
    """Alternating least squares (ALS-WR; alpha > 0: implicit feedback,
    Hu-Koren-Volinsky) on ratings: (users, items, ratings) arrays, an
    (m, 3) array, a frame with user/item/rating columns, a ratings file or
    a bipartite Graph.  Returns a Factorization; trace sees the train RMSE
    per sweep as residual."""
    nr = _nranks(np)
    g = _ratings_graph(ratings, threads)
    if nr > 1:
        args = ["--lambda", repr(float(lambda_)), "--max-iter", int(max_iter),
                "--seed", int(seed)] + (["--implicit", repr(float(alpha))] if alpha else [])
        f, _, info, st = _mf_across_ranks(g, nr, "als", args, rank, False, threads)
        return Factorization(g, f, None, info, st)
    factors = _np.empty((g.num_vertices, int(rank)), _np.float32)
    t = _Trace(trace)
    st, info = _gasp.als(g._h, factors, int(rank), float(lambda_), float(alpha), int(seed),
                         _engine(threads, engine, max_iter), t.raw)
    t.done(stats, st)
    return Factorization(g, factors, None, info, st)


def nmf(ratings, rank=20, lambda_=0.1, max_iter=10, *, seed=1, threads=0, engine=None,
        np=None, trace=None, stats=None):
    """Non-negative matrix factorization of the observed ratings (Lee and
    Seung's multiplicative updates, one side at a time; lambda per row;
    ratings non-negative), on ratings as for als.  Returns a
    Factorization; the objective never rises from sweep to sweep."""
    nr = _nranks(np)
    g = _ratings_graph(ratings, threads)
    if nr > 1:
        args = ["--lambda", repr(float(lambda_)), "--max-iter", int(max_iter),
                "--seed", int(seed)]
        f, _, info, st = _mf_across_ranks(g, nr, "nmf", args, rank, False, threads)
        return Factorization(g, f, None, info, st)
    factors = _np.empty((g.num_vertices, int(rank)), _np.float32)
    t = _Trace(trace)
    st, info = _gasp.als(g._h, factors, int(rank), float(lambda_), 0.0, int(seed),
                         _engine(threads, engine, max_iter), t.raw, True)
    t.done(stats, st)
    return Factorization(g, factors, None, info, st)


def sgd(ratings, rank=20, lambda_=0.1, max_iter=40, *, lr=0.04, decay=0.95, biased=False,
        lambda_bias=None, seed=1, threads=0, engine=None, np=None, trace=None, stats=None):
    """Block-coordinate SGD (LIBMF's objective; biased adds mean and user
    and item biases) on ratings as for als; max_iter epochs."""
    nr = _nranks(np)
    g = _ratings_graph(ratings, threads)
    if nr > 1:
        args = ["--lambda", repr(float(lambda_)), "--lr", repr(float(lr)),
                "--decay", repr(float(decay)), "--max-iter", int(max_iter), "--seed", int(seed)]
        if biased:
            args.append("--biased")
            if lambda_bias is not None:
                args += ["--lambda-bias", repr(float(lambda_bias))]
        f, b, info, st = _mf_across_ranks(g, nr, "sgd", args, rank, biased, threads)
        return Factorization(g, f, b, info, st)
    factors = _np.empty((g.num_vertices, int(rank)), _np.float32)
    bias = _np.empty(g.num_vertices, _np.float32) if biased else None
    t = _Trace(trace)
    st, info = _gasp.sgd(g._h, factors, bias, int(rank), float(lambda_), float(lr), float(decay),
                         -1.0 if lambda_bias is None else float(lambda_bias), int(seed),
                         _engine(threads, engine, max_iter), t.raw)
    t.done(stats, st)
    return Factorization(g, factors, bias, info, st)


# ---- topic models ------------------------------------------------------------------


class TopicModel:
    """An LDA fit: doc_ids, word_ids (original ids), doc_topic (D x K) and
    word_topic (W x K) counts (uint32 views of one array), words (the
    vocabulary, when the corpus had one), alpha, beta, loglik (log p(w, z)
    per token after the last sweep); theta() and phi() smooth the counts."""

    def __init__(self, g, counts, alpha, beta, info, stats):
        nl = g.num_left
        self.doc_ids = g.ids[:nl]
        self.word_ids = g.ids[nl:]
        self.doc_topic = counts[:nl]
        self.word_topic = counts[nl:]
        names = g.names
        self.words = None if names is None else names[nl:]
        self.topics = counts.shape[1]
        self.alpha = alpha
        self.beta = beta
        self.loglik = info["loglik"]
        self.tokens = info["tokens"]
        self.stats = stats

    def theta(self):
        """p(topic | document): (n_dk + alpha) / (n_d + K alpha)."""
        c = self.doc_topic.astype(_np.float64)
        return (c + self.alpha) / (c.sum(axis=1, keepdims=True) + self.topics * self.alpha)

    def phi(self):
        """p(word | topic) by word row: (n_wk + beta) / (n_k + W beta)."""
        c = self.word_topic.astype(_np.float64)
        return (c + self.beta) / (c.sum(axis=0, keepdims=True) + c.shape[0] * self.beta)

    def top_words(self, n=10):
        """The n most frequent words (names, or ids) of every topic."""
        order = _np.argsort(-self.word_topic, axis=0, kind="stable")[:n].T
        label = self.words if self.words is not None else self.word_ids.tolist()
        return [[label[w] for w in row] for row in order]


_CORPUS_NAMES = (("doc", "document", "docid", "doc_id", "d"), ("word", "wordid", "word_id",
                                                               "term", "w"),
                 ("count", "counts", "n", "c", "tf"))


def _lda_across_ranks(g, nr, K, alpha, beta, iters, seed, threads):
    """`gasp lda --np NR --counts` over g's corpus (written as triples to a
    private temporary folder): the word-topic counts as written, the
    document-topic counts from theta and each document's length (theta is
    printed to 6 digits: exact for documents below 10^5 tokens)."""
    import tempfile
    a = 50.0 / K if alpha is None else float(alpha)
    nl = g.num_left
    src, _, w = g.edges()
    ids = g.ids
    with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
        path, pre = os.path.join(d, "corpus.triples"), os.path.join(d, "m")
        _write_triples(g, path, "%d")
        j = _run_command("lda", ["-i", path, "--format", "triples", "-k", K, "--alpha",
                                 repr(a), "--beta", repr(float(beta)), "--iters", int(iters),
                                 "--seed", int(seed), "--counts", "-o", pre], nr, threads)
        wt = _np.loadtxt(pre + ".word-topic.tsv", dtype=_np.float64, comments="#", ndmin=2)
        th = _np.loadtxt(pre + ".doc-topic.tsv", dtype=_np.float64, ndmin=2)
    counts = _np.zeros((g.num_vertices, K), _np.uint32)
    nd = _np.bincount(src, weights=w, minlength=nl)[:nl]
    di = _np.searchsorted(ids[:nl], th[:, 0].astype(_np.uint64))
    counts[di] = _np.rint(th[:, 1:] * (nd[di, None] + K * a) - a).astype(_np.uint32)
    wi = nl + _np.searchsorted(ids[nl:], wt[:, 0].astype(_np.uint64))
    counts[wi] = wt[:, 1:].astype(_np.uint32)
    info = {"alpha": a, "loglik": float(j.get("log_likelihood_per_token", "nan")),
            "tokens": int(j["tokens"])}
    return TopicModel(g, counts, a, beta, info, j)


def lda(corpus, topics=20, alpha=None, beta=0.01, iters=200, *, seed=1, vocab=None,
        format="corpus", threads=0, engine=None, np=None, trace=None, stats=None):
    """Latent Dirichlet allocation by collapsed Gibbs sampling on a corpus:
    (doc, word, count) arrays, an (m, 3) array or frame, a corpus file (UCI
    docword, LDA-C, triples; vocab names the words) or a bipartite Graph.
    alpha None: 50 / topics.  Returns a TopicModel; trace sees the
    log-likelihood per token after every sweep as residual.  np > 1: AD-LDA
    across ranks through the command (the counts its model files give)."""
    nr = _nranks(np)
    if isinstance(corpus, Graph):
        g = corpus
    elif isinstance(corpus, (str, bytes, os.PathLike)):
        g = load(corpus, format, vocab=vocab, threads=threads)
    else:
        d, w, c = _columns(corpus, _CORPUS_NAMES)
        g = Graph.from_coo(d, w, _np.asarray(c, dtype=_np.float64), 0, bipartite=True,
                           threads=threads)
    if nr > 1:
        return _lda_across_ranks(g, nr, int(topics), alpha, beta, iters, seed, threads)
    counts = _np.empty((g.num_vertices, int(topics)), _np.uint32)
    t = _Trace(trace)
    st, info = _gasp.lda(g._h, counts, int(topics), 0.0 if alpha is None else float(alpha),
                         float(beta), int(seed), _engine(threads, engine, iters), t.raw)
    t.done(stats, st)
    return TopicModel(g, counts, info["alpha"], beta, info, st)


# ---- plots (matplotlib, imported on first use) -----------------------------------


def read_trace(path):
    """A `--trace` TSV file as a dict of column name -> float array."""
    from .plot import read_trace as rt
    return rt(path)


def plot_trace(trace, ax=None, output=None, title=None):
    """Draw a trace per iteration: PageRank's residual (log scale), ALS/SGD
    train and test RMSE, LDA's log-likelihood.  trace: a `--trace` TSV
    path, a dict of columns, or the list a call's trace= filled.  Draws on
    ax (a new figure when None) and saves to output (.png, .svg, ...)
    when given; returns the figure."""
    from .plot import plot_trace as pt
    return pt(trace, ax=ax, output=output, title=title)


def plot_degrees(G, ax=None, output=None, title=None):
    """Log-log degree distribution (out and in) of a graph; returns the
    figure, saved to output when given."""
    from .plot import plot_degrees as pd
    return pd(_graph(G, None), ax=ax, output=output, title=title)


# ---- linear systems and clustering ------------------------------------------


def jacobi(A, b=None, *, tol=1e-10, max_iter=None, threads=0, np=None, trace=None,
           stats=None):
    """Solves A x = b by Jacobi sweeps (A: a square scipy.sparse matrix or a
    weighted Graph whose row i's entries are i's out-edges; b: one value a
    row, None for A 1, whose solution is all ones).  Returns x by row
    (vertex); stats gets the residual, sweeps, 'converged' and
    'dominant'.  ConvergenceError when it did not converge."""
    nr = _nranks(np)
    g = A if isinstance(A, Graph) else Graph.from_scipy(A, weighted=True, threads=threads)
    n = g.num_vertices
    bb = None if b is None else _np.ascontiguousarray(b, dtype=_np.float64)
    if bb is not None and bb.shape != (n,):
        raise ValueError(f"b: {n} values, one a row")
    if nr > 1:
        import tempfile
        with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as d:
            snap, out = os.path.join(d, "A.gasp"), os.path.join(d, "x.tsv")
            g.save(snap)
            args = ["-i", snap, "-o", out, "--tol", repr(float(tol))]
            if max_iter is not None:
                args += ["--max-iter", int(max_iter)]
            if bb is not None:
                rhs = os.path.join(d, "b.txt")
                _np.savetxt(rhs, _np.column_stack([g.ids.astype(_np.float64), bb]),
                            fmt=["%d", "%.17g"])
                args += ["--rhs", rhs]
            j = _run_command("jacobi", args, nr, threads)
            rows = _np.loadtxt(out, dtype=_np.float64, ndmin=2)
        x = _np.empty(n, _np.float64)
        x[_id_index(g, rows[:, 0].astype(_np.uint64).tolist())] = rows[:, 1]
        info = {"sweeps": j["sweeps"], "max_change": j["max_change"],
                "residual": j["residual"], "converged": int(bool(j["converged"])),
                "dominant": int(bool(j["diagonally_dominant"]))}
        if stats is not None:
            stats.update(info)
        if not info["converged"]:
            raise ConvergenceError(f"jacobi: no convergence (residual {info['residual']:.3g})")
        return x
    x = _np.empty(n, _np.float64)
    t = _Trace(trace)
    st, info = _gasp.jacobi(g._h, bb, x, float(tol), _engine(threads, "sync", max_iter),
                            t.raw)
    st.update(info)
    t.done(stats, st)
    if not info["converged"]:
        raise ConvergenceError(f"jacobi: no convergence (residual {info['residual']:.3g})")
    return x


def kmeans(X, k=8, *, init="k-means++", seed=1, tol=1e-9, max_iter=None, threads=0,
           np=None, trace=None, stats=None):
    """k-means (Lloyd's iteration on the engine, as GraphLab's kmeans) of
    the rows of X (n x d): returns (labels, centres, objective).  init:
    'k-means++' (for seed) or a k x d array of starting centres."""
    nr = _nranks(np)
    X = _np.ascontiguousarray(X, dtype=_np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError("X: an n x d array with n > 0")
    n, d = X.shape
    if nr > 1:
        if not (isinstance(init, str) and init == "k-means++"):
            raise NotImplementedError("np > 1 seeds with k-means++ (init='k-means++')")
        import tempfile
        with tempfile.TemporaryDirectory(prefix="gasp-ranks-") as td:
            pts, out = os.path.join(td, "p.txt"), os.path.join(td, "c.tsv")
            cen = os.path.join(td, "centres.tsv")
            _np.savetxt(pts, _np.column_stack([_np.arange(n, dtype=_np.float64), X]),
                        fmt=["%d"] + ["%.17g"] * d)
            args = ["-i", pts, "-o", out, "--centres", cen, "-k", int(k), "--seed", int(seed),
                    "--tol", repr(float(tol))]
            if max_iter is not None:
                args += ["--max-iter", int(max_iter)]
            j = _run_command("kmeans", args, nr, threads)
            rows = _np.loadtxt(out, dtype=_np.uint64, ndmin=2)
            cr = _np.loadtxt(cen, dtype=_np.float64, ndmin=2)
        labels = _np.empty(n, _np.uint32)
        labels[rows[:, 0].astype(_np.int64)] = rows[:, 1]
        centres = cr[:, 1:].copy()
        if stats is not None:
            stats.update(j)
        return labels, centres, float(j["objective"])
    c0 = None
    if not (isinstance(init, str) and init == "k-means++"):
        c0 = _np.ascontiguousarray(init, dtype=_np.float64)
        if c0.shape != (int(k), d):
            raise ValueError(f"init: a {k} x {d} array")
    g = Graph.from_coo(_np.empty(0, _np.uint64), _np.empty(0, _np.uint64), None, n,
                       threads=threads)
    labels = _np.empty(n, _np.uint32)
    centres = _np.empty((int(k), d), _np.float64)
    t = _Trace(trace)
    st, info = _gasp.kmeans(g._h, X, d, int(k), int(seed), float(tol), c0, labels, centres,
                            _engine(threads, "sync", max_iter), t.raw)
    st.update(info)
    t.done(stats, st)
    return labels, centres, info["objective"]
