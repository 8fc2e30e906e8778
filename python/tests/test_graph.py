"""gasp.Graph from every source: the same graph, its properties, the
zero-copy views, ids and errors."""
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import gasp


def coo_of(G):
    src = np.array([u for u, v in G.edges()], dtype=np.int64)
    dst = np.array([v for u, v in G.edges()], dtype=np.int64)
    w = np.array([x for _, _, x in G.edges(data="weight")], dtype=np.float64)
    return src, dst, w


def test_sources_agree(digraph, graph_file):
    src, dst, w = coo_of(digraph)
    n = digraph.number_of_nodes()
    A = nx.to_scipy_sparse_array(digraph, nodelist=range(n), format="csr")
    graphs = {
        "file": gasp.load(graph_file),
        "coo": gasp.Graph.from_coo(src, dst, w, num_vertices=n),
        "csr": gasp.Graph.from_csr(A.indptr, A.indices, A.data),
        "scipy": gasp.Graph(sp.csr_matrix(A)),
        "scipy-coo": gasp.Graph(sp.coo_matrix(A)),
        "networkx": gasp.Graph(digraph),
        "tuple": gasp.Graph((src, dst, w)),
        "array": gasp.Graph(np.column_stack([src, dst, w])),
    }
    ref = nx.pagerank(digraph, tol=1e-10)
    ref = np.array([ref[v] for v in range(n)])
    # the file names only the ids with edges: map through ids
    for name, g in graphs.items():
        assert g.num_edges == digraph.number_of_edges(), name
        assert g.weighted, name
        pr = gasp.pagerank(g, tol=1e-10)
        if isinstance(pr, dict):
            pr = np.array([pr[v] for v in range(n)])
        idx = g.ids.astype(np.int64)
        np.testing.assert_allclose(pr, ref[idx] if len(idx) != n else ref, atol=1e-9,
                                   err_msg=name)


def test_networkx_string_names():
    G = nx.Graph()
    G.add_edges_from([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("x", "y")])
    G.add_node("lonely")
    g = gasp.Graph(G)
    assert g.num_vertices == 7 and g.num_edges == 10  # both arcs of each edge
    assert g.nodes == list(G)
    assert gasp.triangles(G) == nx.triangles(G)
    assert gasp.core_number(G) == nx.core_number(G)
    comp = gasp.cc(G)
    assert comp["b"] == "a" and comp["y"] == "x" and comp["lonely"] == "lonely"
    parts = gasp.connected_components(G)
    assert sorted(map(sorted, parts)) == sorted(map(sorted, nx.connected_components(G)))
    assert gasp.bfs(G, "a") == nx.single_source_shortest_path_length(G, "a")
    d, par = gasp.bfs(G, "d", parents=True)
    assert par == {"d": "d", "c": "d", "a": "c", "b": "c"}
    with pytest.raises(KeyError):
        gasp.bfs(G, "nope")


def test_properties_and_views(digraph):
    g = gasp.Graph(digraph)
    n = digraph.number_of_nodes()
    assert len(g) == n == g.num_vertices
    out = dict(digraph.out_degree())
    inn = dict(digraph.in_degree())
    assert g.out_degree.tolist() == [out[v] for v in range(n)]
    assert g.in_degree.tolist() == [inn[v] for v in range(n)]
    assert g.degree.tolist() == [out[v] + inn[v] for v in range(n)]
    # read-only views of the library's own arrays, alive beyond the graph
    ind = g.indices
    assert not ind.flags.writeable and ind.base is not None
    with pytest.raises(ValueError):
        ind[0] = 1
    src, dst, w = g.edges()
    assert sorted(zip(src.tolist(), dst.tolist())) == sorted(digraph.edges())
    for u, v, x in zip(src.tolist(), dst.tolist(), w.tolist()):
        assert digraph[u][v]["weight"] == x
    del g
    assert ind.sum() == dst.sum()
    A = gasp.Graph(digraph).to_scipy()
    B = nx.to_scipy_sparse_array(digraph, nodelist=range(n))
    assert abs(A - B).max() == 0


def test_sparse_ids_map_back(tmp_path):
    p = tmp_path / "ids.el"
    p.write_text("100 7\n7 5000000000\n5000000000 100\n42 7\n")
    g = gasp.load(p)
    assert g.ids.tolist() == [7, 42, 100, 5000000000]
    assert g.index(100) == 2
    d = gasp.bfs(g, 42)  # sources are original ids, results by vertex index
    assert d.tolist() == [1, 0, 3, 2]
    g2 = gasp.Graph.from_coo([100, 7, 5000000000, 42], [7, 5000000000, 100, 7], num_vertices=0)
    assert g2.ids.tolist() == g.ids.tolist()
    assert g.info()["vertices"] == 4


def test_zero_copy_inputs_accepted():
    # uint64 and int64 ids, float64 weights are passed as they are
    src = np.array([0, 1, 2], dtype=np.uint64)
    dst = np.array([1, 2, 0], dtype=np.int64)
    g = gasp.Graph.from_coo(src, dst, np.ones(3))
    assert g.num_edges == 3 and g.weighted
    g = gasp.Graph.from_coo(src.astype(np.int32), dst.astype(np.uint16))
    assert not g.weighted and g.num_vertices == 3


def test_errors():
    with pytest.raises(gasp.GaspError) as e:
        gasp.load("/nonexistent/graph.el")
    assert "/nonexistent/graph.el" in str(e.value) and e.value.name == "EIO"
    with pytest.raises(ValueError):
        gasp.Graph.from_coo([0, -1], [1, 2])
    with pytest.raises(ValueError):
        gasp.load(__file__, format="nonsense")
    g = gasp.Graph.from_coo([0, 1], [1, 2])
    with pytest.raises(ValueError, match="engine"):
        gasp.pagerank(g, engine="warp")
    with pytest.raises(KeyError):
        gasp.sssp(g, 17)
    with pytest.raises(ValueError, match="np"):
        gasp.cc(g, np=-1)


def test_parse_error_message(tmp_path):
    p = tmp_path / "bad.el"
    p.write_text("1 2\n3 x\n")
    with pytest.raises(gasp.GaspError) as e:
        gasp.load(p)
    assert str(e.value) == f"{p}:2: non-numeric id 'x'"
    assert e.value.code < 0 and e.value.name == "EPARSE"


def test_library_error_from_csr():
    with pytest.raises(gasp.GaspError, match=r"off\[2\] = 1 is below off\[1\] = 2"):
        gasp.Graph.from_csr([0, 2, 1, 3], [1, 2, 0])


def test_library_error_from_toolkit():
    g = gasp.Graph.from_coo([0, 1], [1, 2], [1.0, -3.0])
    with pytest.raises(gasp.GaspError, match="negative|weight"):
        gasp.sssp(g, 0)


def test_snapshot_roundtrip(tmp_path, digraph):
    g = gasp.Graph(digraph)
    g.save(tmp_path / "g.gasp")
    h = gasp.load(tmp_path / "g.gasp")
    assert h.num_edges == g.num_edges
    np.testing.assert_array_equal(h.indices, g.indices)
    np.testing.assert_array_equal(h.weights, g.weights)
