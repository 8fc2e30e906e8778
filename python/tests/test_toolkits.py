"""Each toolkit call against NetworkX and SciPy (or the gasp command)."""
import subprocess

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csg

import gasp

from conftest import random_digraph


def arr(d, n):
    return np.array([d[v] for v in range(n)])


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_pagerank_directed_weighted(digraph, engine):
    n = digraph.number_of_nodes()
    ref = arr(nx.pagerank(digraph, tol=1e-12, max_iter=1000), n)
    pr = arr(gasp.pagerank(digraph, tol=1e-12, max_iter=1000, engine=engine), n)
    np.testing.assert_allclose(pr, ref, atol=1e-8)
    assert abs(pr.sum() - 1) < 1e-9


def test_pagerank_options(digraph):
    n = digraph.number_of_nodes()
    pers = {0: 1.0, 5: 2.0, 17: 1.0}
    ref = nx.pagerank(digraph, alpha=0.7, personalization=pers, weight=None, tol=1e-12,
                      max_iter=1000)
    pr = gasp.pagerank(digraph, alpha=0.7, personalization=pers, weight=None, tol=1e-12,
                       max_iter=1000)
    np.testing.assert_allclose(arr(pr, n), arr(ref, n), atol=1e-8)
    pr = gasp.pagerank(digraph, damping=0.7, personalization=pers, weight=None, tol=1e-12,
                       max_iter=1000)
    np.testing.assert_allclose(arr(pr, n), arr(ref, n), atol=1e-8)
    # networkx's defaults (tol 1e-6 per vertex) give networkx's accuracy
    pr = gasp.pagerank(digraph)
    ref = nx.pagerank(digraph)
    np.testing.assert_allclose(arr(pr, n), arr(ref, n), atol=1e-5)
    with pytest.raises(gasp.ConvergenceError):
        gasp.pagerank(digraph, max_iter=2)
    # an array graph and an array personalization
    g = gasp.Graph(digraph)
    t = np.zeros(n)
    t[[0, 5, 17]] = [1, 2, 1]
    ref = nx.pagerank(digraph, alpha=0.7, personalization=pers, weight=None, tol=1e-12,
                      max_iter=1000)
    pr = gasp.pagerank(g.indexed(), alpha=0.7, personalization=t, weight=None, tol=1e-12,
                       max_iter=1000)
    np.testing.assert_allclose(pr, arr(ref, n), atol=1e-8)


def test_cc_against_scipy():
    rng = np.random.default_rng(3)
    n, m = 2000, 1500  # sparse: many components
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    A = sp.coo_matrix((np.ones(m), (src, dst)), shape=(n, n))
    k, ref = csg.connected_components(A, directed=True, connection="weak")
    g = gasp.Graph.from_coo(src, dst, num_vertices=n)
    for alg in ("auto", "labelprop"):
        lab = gasp.cc(g, algorithm=alg, threads=2)
        # the same partition, each named by its smallest vertex
        assert len(np.unique(lab)) == k
        pairs = set(zip(lab.tolist(), ref.tolist()))
        assert len(pairs) == k
        assert all(lab[v] <= v and lab[lab[v]] == lab[v] for v in range(n))
    assert gasp.number_connected_components(g) == k
    parts = gasp.connected_components(g)
    assert sum(len(p) for p in parts) == n and len(parts) == k


def test_sssp_against_dijkstra(digraph):
    n = digraph.number_of_nodes()
    A = nx.to_scipy_sparse_array(digraph, nodelist=range(n), format="csr")
    g = gasp.Graph(sp.csr_matrix(A))
    for s in (0, 3, 150):
        ref = csg.dijkstra(A, directed=True, indices=s)
        np.testing.assert_allclose(gasp.sssp(g, s), ref, rtol=1e-12)
        ref_u = csg.dijkstra(A, directed=False, indices=s)
        np.testing.assert_allclose(gasp.sssp(g, s, directed=False), ref_u, rtol=1e-12)
    d = gasp.sssp(digraph, 3)
    ref = nx.single_source_dijkstra_path_length(digraph, 3)
    assert d.keys() == ref.keys()
    assert all(abs(d[v] - ref[v]) < 1e-12 for v in ref)
    # weight=None: hop counts
    assert gasp.sssp(digraph, 3, weight=None) == {
        v: float(x) for v, x in nx.single_source_shortest_path_length(digraph, 3).items()}
    np.testing.assert_array_equal(gasp.sssp(g, 3, weight=None),
                                  csg.shortest_path(A, unweighted=True, indices=3))


def test_bfs_against_networkx():
    G = random_digraph(500, 0.006, seed=11, weighted=False)
    for s in (0, 42):
        ref = nx.single_source_shortest_path_length(G, s)
        depth, parent = gasp.bfs(G, s, parents=True)
        assert depth == ref
        for v, p in parent.items():
            assert p == v if v == s else (depth[p] == depth[v] - 1 and G.has_edge(p, v))
            # the smallest parent one level up
            if v != s:
                assert p == min(u for u in G.predecessors(v) if depth.get(u) == depth[v] - 1)
    g = gasp.Graph(sp.csr_matrix(nx.to_scipy_sparse_array(G, nodelist=range(500))))
    d = gasp.bfs(g, 0)
    ref = csg.shortest_path(nx.to_scipy_sparse_array(G, nodelist=range(500)), unweighted=True,
                            indices=0)
    assert np.array_equal(d == gasp.UNREACHED, np.isinf(ref))
    assert np.array_equal(d[d != gasp.UNREACHED], ref[np.isfinite(ref)])
    dud = gasp.bfs(g, 0, directed=False)
    assert dud.tolist() == arr(nx.single_source_shortest_path_length(G.to_undirected(), 0)
                               | {v: gasp.UNREACHED for v in range(500)
                                  if not nx.has_path(G.to_undirected(), 0, v)}, 500).tolist()


def test_triangles_and_cores():
    G = nx.powerlaw_cluster_graph(400, 4, 0.3, seed=5)
    G.add_edge(7, 7)  # a loop: ignored by both
    assert gasp.triangles(G) == nx.triangles(G)
    assert gasp.triangles(G, 7) == nx.triangles(G, 7)
    assert gasp.triangles(G, [1, 2]) == nx.triangles(G, [1, 2])
    assert gasp.triangle_count(G) == sum(nx.triangles(G).values()) // 3
    assert abs(gasp.transitivity(G) - nx.transitivity(G)) < 1e-12
    G.remove_edge(7, 7)
    assert gasp.core_number(G) == nx.core_number(G)
    for engine in ("sync", "async"):
        assert gasp.kcore(G, engine=engine, threads=2) == nx.core_number(G)
    # a directed multigraph taken as undirected
    D = random_digraph(200, 0.05, seed=2, weighted=False)
    U = nx.Graph(D.to_undirected())
    assert gasp.triangles(gasp.Graph(D).indexed()).tolist() == arr(nx.triangles(U), 200).tolist()
    assert gasp.kcore(gasp.Graph(D).indexed()).tolist() == arr(nx.core_number(U), 200).tolist()


def is_stable(G, lab):
    """Every vertex holds a label of the largest count among its
    neighbours (networkx's label propagation's fixed point)."""
    for v in G:
        counts = {}
        for u in G[v]:
            if u != v:
                counts[lab[u]] = counts.get(lab[u], 0) + 1
        if counts and counts.get(lab[v], 0) != max(counts.values()):
            return False
    return True


def test_labelprop_stable_and_deterministic(karate):
    G = nx.Graph(karate)
    nx.set_edge_attributes(G, 1, "weight")
    lab = gasp.label_propagation(G)
    assert is_stable(G, lab)
    assert gasp.label_propagation(G, threads=1) == gasp.label_propagation(G, threads=2) == lab
    comms = gasp.label_propagation_communities(G)
    assert sum(len(c) for c in comms) == 34
    assert {frozenset(c) for c in comms} == {
        frozenset(v for v in G if lab[v] == x) for x in set(lab.values())}


def test_labelprop_same_as_command(gasp_bin, tmp_path):
    G = nx.powerlaw_cluster_graph(300, 3, 0.4, seed=9)
    p = tmp_path / "g.el"
    p.write_text("".join(f"{u} {v}\n" for u, v in G.edges()))
    out = subprocess.run([gasp_bin, "labelprop", "-i", str(p), "--symmetric", "-o", "-",
                          "--quiet"], check=True, capture_output=True, text=True).stdout
    cli = {int(a): int(b) for a, b in (line.split("\t") for line in out.splitlines())}
    g = gasp.load(p, symmetric=True)
    lab = gasp.labelprop(g)
    ids = g.ids
    assert {int(ids[v]): int(ids[lab[v]]) for v in range(len(ids))} == cli
    assert is_stable(G, {int(ids[v]): int(ids[lab[v]]) for v in range(len(ids))})


def test_trace_and_stats(digraph):
    trace, stats = [], {}
    gasp.pagerank(digraph, tol=1e-12, max_iter=1000, trace=trace, stats=stats)
    assert stats["reason"] == "converged" and stats["iterations"] == len(trace)
    res = [t["residual"] for t in trace]
    assert res[-1] < 1e-12 * digraph.number_of_nodes() and res[0] > res[-1]


def test_als_sgd():
    rng = np.random.default_rng(1)
    U, I, k = 200, 150, 4
    X, Y = rng.random((U, k)), rng.random((I, k))
    users = np.repeat(np.arange(U), 30)
    items = np.concatenate([rng.choice(I, 30, replace=False) for _ in range(U)])
    r = (X[users] * Y[items]).sum(axis=1) + rng.normal(0, 0.01, users.size)
    users = users * 3 + 1000  # sparse original ids
    trace = []
    m = gasp.als((users, items, r), rank=k, lambda_=0.01, max_iter=15, trace=trace)
    assert m.user_factors.shape == (U, k) and m.item_factors.shape == (I, k)
    assert m.user_ids.tolist() == sorted(set(users.tolist()))
    assert m.train_rmse < 0.05 and len(trace) == 15
    assert abs(trace[-1]["residual"] - m.train_rmse) < 1e-9
    assert m.rmse(users, items, r) < 0.05
    frame = np.rec.fromarrays([users, items, r], names="user,item,rating")
    s = gasp.sgd(frame, rank=k, lambda_=0.001, max_iter=60, biased=True)
    assert s.user_bias.shape == (U,) and s.rmse(users, items, r) < 0.2
    assert gasp.sgd(np.column_stack([users, items, r]), rank=k, max_iter=2).train_rmse > 0
    # training is independent of the thread count
    a = gasp.als((users, items, r), rank=k, max_iter=3, threads=1)
    b = gasp.als((users, items, r), rank=k, max_iter=3, threads=2)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)


def test_lda(gasp_bin, tmp_path):
    p = tmp_path / "c.triples"
    subprocess.run([gasp_bin, "generate", "lda", "--docs", "200", "--vocab-size", "300",
                    "--topics", "5", "--doc-length", "50", "-o", str(p), "--quiet"], check=True)
    trace = []
    m = gasp.lda(p, topics=5, iters=30, trace=trace, threads=1)
    d = np.loadtxt(p, dtype=np.int64, skiprows=3)  # UCI: D, W, NNZ, then triples
    assert m.doc_topic.sum() == m.word_topic.sum() == d[:, 2].sum() == m.tokens
    assert len(trace) == 30 and trace[-1]["residual"] > trace[0]["residual"]
    assert abs(trace[-1]["residual"] - m.loglik) < 1e-6
    np.testing.assert_allclose(m.theta().sum(axis=1), 1)
    np.testing.assert_allclose(m.phi().sum(axis=0), 1)
    assert len(m.top_words(3)) == 5
    # arrays give the same fit as a file of the same entries (UCI keeps
    # the words without tokens as vertices, triples do not)
    t = tmp_path / "c.tsv"
    np.savetxt(t, d, fmt="%d", delimiter="\t")
    f = gasp.lda(t, topics=5, iters=30, threads=1, format="triples")
    a = gasp.lda((d[:, 0], d[:, 1], d[:, 2]), topics=5, iters=30, threads=1)
    np.testing.assert_array_equal(a.doc_topic, f.doc_topic)
    np.testing.assert_array_equal(a.word_topic, f.word_topic)


# ---- colouring, strong components, centralities, diameter ----------------


def test_colour_natural_is_networkx_greedy(karate):
    """Ascending order: networkx's greedy_color with the same order."""
    ref = nx.greedy_color(karate, strategy=lambda G, colors: sorted(G))
    got = gasp.colour(karate, "natural")
    assert got == ref
    for order in ("degree", "random", "saturation"):
        c = gasp.colour(karate, order)
        assert all(c[u] != c[v] for u, v in karate.edges())
    assert gasp.greedy_color(karate, "DSATUR") == gasp.colour(karate, "saturation")


def test_scc(digraph):
    ref = sorted(sorted(c) for c in nx.strongly_connected_components(digraph))
    got = sorted(sorted(c) for c in gasp.strongly_connected_components(digraph))
    assert got == ref
    lab = gasp.scc(digraph)
    for comp in ref:
        assert {lab[v] for v in comp} == {max(comp)}


def test_closeness(digraph, karate):
    for G in (digraph, karate):
        n = G.number_of_nodes()
        np.testing.assert_allclose(arr(gasp.closeness_centrality(G), n),
                                   arr(nx.closeness_centrality(G), n), atol=1e-12)
        np.testing.assert_allclose(arr(gasp.harmonic_centrality(G), n),
                                   arr(nx.harmonic_centrality(G), n), atol=1e-9)


def test_betweenness(digraph, karate):
    for G in (digraph, karate):
        n = G.number_of_nodes()
        np.testing.assert_allclose(arr(gasp.betweenness_centrality(G), n),
                                   arr(nx.betweenness_centrality(G), n), atol=1e-12)
        raw = nx.betweenness_centrality(G, normalized=False)
        scale = 1 if G.is_directed() else 2  # networkx halves undirected sums
        np.testing.assert_allclose(
            arr(gasp.betweenness_centrality(G, normalized=False), n),
            scale * arr(raw, n), atol=1e-9)


def test_diameter(karate):
    assert gasp.diameter(karate) == nx.diameter(karate)
    assert gasp.eccentricity(karate) == nx.eccentricity(karate)
    info = gasp.diameter_info(karate, bits=8)
    assert info["diameter"] <= nx.diameter(karate)
    assert 0 < info["rse"] < 0.1


def test_nmf():
    rng = np.random.default_rng(3)
    u = rng.integers(0, 40, 400)
    i = rng.integers(0, 25, 400)
    r = rng.integers(1, 6, 400).astype(float)
    tr = []
    f = gasp.nmf((u, i, r), rank=4, max_iter=8, trace=tr)
    assert (f.user_factors >= 0).all() and (f.item_factors >= 0).all()
    rmse = [x["residual"] for x in tr]
    assert len(rmse) == 8 and rmse[-1] < rmse[0]


def test_jacobi():
    rng = np.random.default_rng(4)
    n = 80
    A = sp.random(n, n, density=0.05, random_state=5, format="lil")
    A.setdiag(0)
    A = A.tocsr()
    d = np.asarray(abs(A).sum(axis=1)).ravel() + 1.0
    A = (A + sp.diags(d)).tocsr()
    b = rng.uniform(-3, 3, n)
    st = {}
    x = gasp.jacobi(A, b, stats=st)
    np.testing.assert_allclose(x, np.linalg.solve(A.toarray(), b), atol=1e-8)
    assert st["converged"] and st["dominant"]
    np.testing.assert_allclose(gasp.jacobi(A), np.ones(n), atol=1e-8)


def test_kmeans_matches_scipy():
    from scipy.cluster.vq import kmeans2
    rng = np.random.default_rng(6)
    X = np.concatenate([rng.normal(c, 1.0, (60, 2)) for c in ((0, 0), (6, 0), (0, 6))])
    init = X[[0, 60, 120]].copy()
    labels, centres, obj = gasp.kmeans(X, 3, init=init, tol=0)
    ref_c, ref_l = kmeans2(X, init.copy(), minit="matrix", iter=100)
    assert (labels == ref_l).all()
    np.testing.assert_allclose(centres, ref_c, atol=1e-9)
    assert abs(obj - ((X - centres[labels]) ** 2).sum()) < 1e-6


# ---- across ranks (np > 1: the gasp command's launcher) -------------------


@pytest.fixture()
def ranks_env(gasp_bin, monkeypatch):
    monkeypatch.setenv("GASP_BIN", gasp_bin)


def test_across_ranks(ranks_env, digraph, karate):
    n = digraph.number_of_nodes()
    for np_ in (2, 3):
        np.testing.assert_allclose(arr(gasp.pagerank(digraph, tol=1e-12, np=np_), n),
                                   arr(gasp.pagerank(digraph, tol=1e-12), n), atol=1e-10)
        assert gasp.cc(digraph, np=np_) == gasp.cc(digraph)
        assert gasp.kcore(karate, np=np_) == gasp.kcore(karate)
        assert gasp.triangles(karate, np=np_) == gasp.triangles(karate)
        assert gasp.triangle_count(karate, np=np_) == gasp.triangle_count(karate)
        assert gasp.transitivity(karate, np=np_) == gasp.transitivity(karate)
        assert gasp.labelprop(karate, engine="sync", np=np_) == \
            gasp.labelprop(karate, engine="sync")
        assert gasp.bfs(digraph, 0, np=np_) == gasp.bfs(digraph, 0)
        d, p = gasp.bfs(digraph, 0, parents=True, np=np_)
        assert (d, p) == gasp.bfs(digraph, 0, parents=True)
        ref = gasp.sssp(digraph, 0)
        got = gasp.sssp(digraph, 0, np=np_)
        assert got.keys() == ref.keys()
        assert max(abs(got[k] - ref[k]) for k in ref) < 1e-12
    for np_ in (2, 3):
        for order in ("degree", "random", "natural"):
            assert gasp.colour(karate, order, np=np_) == gasp.colour(karate, order)
        assert gasp.scc(digraph, np=np_) == gasp.scc(digraph)
        for h in (False, True):
            ref = arr(gasp.closeness(digraph, harmonic=h), n)
            np.testing.assert_allclose(arr(gasp.closeness(digraph, harmonic=h, np=np_), n),
                                       ref, rtol=1e-11)
        np.testing.assert_allclose(arr(gasp.betweenness_centrality(digraph, np=np_), n),
                                   arr(gasp.betweenness_centrality(digraph), n),
                                   rtol=1e-11, atol=1e-14)
    g = gasp.Graph(digraph)
    np.testing.assert_array_equal(gasp.kcore(g, np=2), gasp.kcore(g))
    pers = {0: 1.0, 5: 1.0, 17: 1.0}
    np.testing.assert_allclose(
        arr(gasp.pagerank(digraph, personalization=pers, tol=1e-12, np=2), n),
        arr(gasp.pagerank(digraph, personalization=pers, tol=1e-12), n), atol=1e-10)
    with pytest.raises(NotImplementedError):
        gasp.pagerank(digraph, personalization={0: 1.0, 5: 2.0}, np=2)
    with pytest.raises(ValueError):
        gasp.kcore(karate, np=0)


def test_across_ranks_without_command(monkeypatch, karate):
    monkeypatch.setenv("GASP_BIN", "/nonexistent")
    monkeypatch.delenv("GASP_BUILD_DIR", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(gasp.GaspError, match="GASP_BIN"):
        gasp.kcore(karate, np=2)


def test_mf_across_ranks(ranks_env):
    rng = np.random.default_rng(9)
    u = rng.integers(0, 50, 600)
    i = rng.integers(0, 30, 600)
    r = rng.integers(1, 6, 600).astype(float)
    for method, kw in (("als", {}), ("nmf", {}), ("sgd", {"biased": True})):
        fn = getattr(gasp, method)
        one = fn((u, i, r), rank=4, max_iter=5, **kw)
        two = fn((u, i, r), rank=4, max_iter=5, np=2, **kw)
        assert (two.user_ids == one.user_ids).all() and (two.item_ids == one.item_ids).all()
        if method == "sgd":  # the ratings meet in another order: statistically alike
            assert abs(two.train_rmse - one.train_rmse) < 0.1
        else:  # the same up to float summation order
            np.testing.assert_allclose(two.user_factors, one.user_factors, rtol=1e-3,
                                       atol=1e-4)
            np.testing.assert_allclose(two.item_factors, one.item_factors, rtol=1e-3,
                                       atol=1e-4)
        assert abs(two.mean - one.mean) < 1e-12
        assert two.min_rating == one.min_rating and two.max_rating == one.max_rating


def test_more_across_ranks(ranks_env, karate):
    info1 = gasp.diameter_info(karate, exact=True)
    info2 = gasp.diameter_info(karate, exact=True, np=2)
    assert info2["diameter"] == info1["diameter"] == nx.diameter(karate)
    assert info2["radius"] == info1["radius"]
    assert info2["eccentricity"] == info1["eccentricity"]
    h1 = gasp.diameter_info(karate, bits=8)
    h2 = gasp.diameter_info(karate, bits=8, np=2)
    assert h2["diameter"] == h1["diameter"]
    assert abs(h2["effective"] - h1["effective"]) < 1e-6
    # jacobi
    n = 60
    A = sp.random(n, n, density=0.06, random_state=7, format="lil")
    A.setdiag(0)
    A = A.tocsr()
    A = (A + sp.diags(np.asarray(abs(A).sum(axis=1)).ravel() + 1.0)).tocsr()
    b = np.linspace(-2, 2, n)
    np.testing.assert_allclose(gasp.jacobi(A, b, np=2), gasp.jacobi(A, b), atol=1e-9)
    np.testing.assert_allclose(gasp.jacobi(A, np=2), np.ones(n), atol=1e-8)
    # kmeans
    rng = np.random.default_rng(8)
    X = np.concatenate([rng.normal(c, 1.0, (50, 2)) for c in ((0, 0), (7, 0), (0, 7))])
    l1, c1, o1 = gasp.kmeans(X, 3, seed=4, tol=0)
    l2, c2, o2 = gasp.kmeans(X, 3, seed=4, tol=0, np=2)
    assert (l1 == l2).all()
    np.testing.assert_allclose(c1, c2, atol=1e-9)
    assert abs(o1 - o2) < 1e-6 * o1
    with pytest.raises(NotImplementedError):
        gasp.kmeans(X, 3, init=X[:3], np=2)


def test_lda_across_ranks(ranks_env):
    rng = np.random.default_rng(10)
    d = np.repeat(np.arange(30), 10)
    w = rng.integers(0, 40, 300)
    c = rng.integers(1, 4, 300).astype(float)
    K = 3
    m = gasp.lda((d, w, c), K, iters=10, np=2)
    g = gasp.Graph.from_coo(d, w, c, 0, bipartite=True)
    src, dst, wt = g.edges()
    nl = g.num_left
    # documents' rows add up to their lengths, words' to their frequencies
    np.testing.assert_array_equal(m.doc_topic.sum(axis=1),
                                  np.bincount(src, weights=wt, minlength=nl)[:nl])
    np.testing.assert_array_equal(m.word_topic.sum(axis=1),
                                  np.bincount(dst - nl, weights=wt,
                                              minlength=g.num_vertices - nl))
    np.testing.assert_array_equal(m.doc_topic.sum(axis=0), m.word_topic.sum(axis=0))
    assert m.tokens == int(c.sum()) and np.isfinite(m.loglik)
