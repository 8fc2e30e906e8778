/*
 * _gasp.c -- the CPython extension over libgasp: gasp.Graph (an owned
 * gasp_graph handle), the graph constructors (a file, COO and CSR arrays)
 * and one function per toolkit call of gasp_toolkits.h.  The Python layer
 * (__init__.py) shapes the arguments; this file only moves buffers.
 *
 * Arrays cross through the buffer protocol, never the numpy C API: input
 * arrays (ids, offsets, weights) are read in place from the caller's
 * buffers, results are written by the library straight into buffers the
 * Python layer allocated, and the graph's own arrays (offsets, neighbours,
 * weights) are exported read-only through a small view object that keeps
 * the graph alive.  Every library call runs with the GIL released, under a
 * per-graph lock: a toolkit call replaces the graph's vertex data, so two
 * calls on one graph from two Python threads take turns.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <gasp.h>
#include <gasp_toolkits.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PyObject *GaspError;
static PyTypeObject GraphType;
static PyTypeObject ViewType;

/* ---- errors ---------------------------------------------------------- */

/* Raises gasp.GaspError with the library's message ("FILE:LINE: reason"
 * when it names a file), .code (the negative status) and .name ("EPARSE").
 * Returns NULL for the caller to return. */
static PyObject *raise_gasp(int rc, const gasp_error *err) {
  char buf[1200];
  if (err && err->msg[0])
    gasp_error_format(err, buf, sizeof buf);
  else
    snprintf(buf, sizeof buf, "%s", gasp_strerror(rc));
  PyObject *exc = PyObject_CallFunction(GaspError, "s", buf);
  if (!exc) return NULL;
  PyObject *code = PyLong_FromLong(rc);
  PyObject *name = PyUnicode_FromString(gasp_err_name(rc));
  if (code && name) {
    PyObject_SetAttrString(exc, "code", code);
    PyObject_SetAttrString(exc, "name", name);
  }
  Py_XDECREF(code);
  Py_XDECREF(name);
  PyErr_SetObject(GaspError, exc);
  Py_DECREF(exc);
  return NULL;
}

/* ---- buffers --------------------------------------------------------- */

/* 'u' unsigned integer, 'i' signed integer, 'f' floating point, 0 other */
static char format_kind(const char *f) {
  if (!f) return 'u'; /* plain bytes */
  while (*f == '<' || *f == '=' || *f == '@' || *f == '!') f++;
  if (f[0] && f[1]) return 0;
  switch (f[0]) {
  case 'B': case 'H': case 'I': case 'L': case 'Q': return 'u';
  case 'b': case 'h': case 'i': case 'l': case 'q': return 'i';
  case 'f': case 'd': return 'f';
  default: return 0;
  }
}

/* Takes a C-contiguous buffer of n items (n < 0: any count) of `size`
 * bytes and kind ('i' accepts signed or unsigned: ids checked by the
 * Python layer).  None gives an empty view with buf NULL when allowed. */
static int get_buf(PyObject *o, Py_buffer *b, char kind, Py_ssize_t size,
                   int writable, Py_ssize_t n, int none_ok, const char *what) {
  memset(b, 0, sizeof *b);
  if (o == Py_None) {
    if (none_ok) return 0;
    PyErr_Format(PyExc_TypeError, "%s: an array is required", what);
    return -1;
  }
  int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
  if (PyObject_GetBuffer(o, b, flags) < 0) return -1;
  char k = format_kind(b->format);
  int ok = b->itemsize == size &&
           (k == kind || (kind == 'i' && k == 'u') || (kind == 'u' && k == 'i'));
  if (!ok) {
    PyErr_Format(PyExc_TypeError, "%s: expected %zd-byte %s items, got '%s'",
                 what, size, kind == 'f' ? "float" : "integer",
                 b->format ? b->format : "B");
  } else if (n >= 0 && b->len / b->itemsize != n) {
    PyErr_Format(PyExc_ValueError, "%s: expected %zd items, got %zd", what, n,
                 b->len / b->itemsize);
    ok = 0;
  }
  if (!ok) {
    PyBuffer_Release(b);
    b->obj = NULL;
    return -1;
  }
  return 0;
}

static void rel(Py_buffer *b) {
  if (b->obj) PyBuffer_Release(b);
}

/* ---- gasp.Graph ------------------------------------------------------ */

typedef struct GraphObject {
  PyObject_HEAD gasp_graph *g;
  PyThread_type_lock lock;
} GraphObject;

static void graph_dealloc(GraphObject *self) {
  gasp_graph_free(&self->g);
  if (self->lock) PyThread_free_lock(self->lock);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *graph_wrap(gasp_graph *g) {
  GraphObject *self = PyObject_New(GraphObject, &GraphType);
  if (!self) {
    gasp_graph_free(&g);
    return NULL;
  }
  self->g = g;
  self->lock = PyThread_allocate_lock();
  if (!self->lock) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return (PyObject *)self;
}

static PyObject *graph_num_vertices(GraphObject *s, void *c) {
  (void)c;
  return PyLong_FromUnsignedLong(gasp_graph_num_vertices(s->g));
}
static PyObject *graph_num_edges(GraphObject *s, void *c) {
  (void)c;
  return PyLong_FromUnsignedLongLong(gasp_graph_num_edges(s->g));
}
static PyObject *graph_num_left(GraphObject *s, void *c) {
  (void)c;
  return PyLong_FromUnsignedLong(gasp_graph_num_left(s->g));
}
static PyObject *graph_bipartite(GraphObject *s, void *c) {
  (void)c;
  return PyBool_FromLong(gasp_graph_is_bipartite(s->g));
}
static PyObject *graph_weighted(GraphObject *s, void *c) {
  (void)c;
  return PyBool_FromLong(gasp_graph_weights(s->g) != NULL);
}

static PyGetSetDef graph_getset[] = {
    {"num_vertices", (getter)graph_num_vertices, NULL, "vertices", NULL},
    {"num_edges", (getter)graph_num_edges, NULL, "edges (arcs)", NULL},
    {"num_left", (getter)graph_num_left, NULL, "left-side vertices", NULL},
    {"bipartite", (getter)graph_bipartite, NULL, "two id spaces", NULL},
    {"weighted", (getter)graph_weighted, NULL, "has edge weights", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

/* A read-only export of one of the graph's arrays; holds the graph. */
typedef struct ViewObject {
  PyObject_HEAD PyObject *owner;
  void *ptr;
  Py_ssize_t n, itemsize;
  char format[4];
  Py_ssize_t shape[1], strides[1];
} ViewObject;

static void view_dealloc(ViewObject *v) {
  Py_XDECREF(v->owner);
  Py_TYPE(v)->tp_free((PyObject *)v);
}

static int view_getbuffer(ViewObject *v, Py_buffer *b, int flags) {
  if (flags & PyBUF_WRITABLE) {
    PyErr_SetString(PyExc_BufferError, "the graph's arrays are read-only");
    b->obj = NULL;
    return -1;
  }
  static char empty;
  b->buf = v->ptr ? v->ptr : &empty;
  b->obj = (PyObject *)v;
  Py_INCREF(v);
  b->len = v->n * v->itemsize;
  b->readonly = 1;
  b->itemsize = v->itemsize;
  b->format = (flags & PyBUF_FORMAT) ? v->format : NULL;
  b->ndim = 1;
  v->shape[0] = v->n;
  v->strides[0] = v->itemsize;
  b->shape = (flags & PyBUF_ND) ? v->shape : NULL;
  b->strides = (flags & PyBUF_STRIDES) ? v->strides : NULL;
  b->suboffsets = NULL;
  b->internal = NULL;
  return 0;
}

static PyBufferProcs view_as_buffer = {(getbufferproc)view_getbuffer, NULL};

static PyTypeObject ViewType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gasp._gasp.View",
    .tp_basicsize = sizeof(ViewObject),
    .tp_dealloc = (destructor)view_dealloc,
    .tp_as_buffer = &view_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "read-only buffer over one of a graph's arrays",
};

/* graph._array(name): "out_off", "out_nbr", "in_off", "in_nbr", "in_slot",
 * "weights" (None when unweighted), zero-copy. */
static PyObject *graph_array(GraphObject *s, PyObject *arg) {
  const char *name = PyUnicode_AsUTF8(arg);
  if (!name) return NULL;
  gasp_adjacency out, in;
  gasp_graph_out_edges(s->g, &out);
  gasp_graph_in_edges(s->g, &in);
  const void *p;
  Py_ssize_t n, size;
  const char *fmt;
  uint64_t nv = out.num_vertices, m = out.num_edges;
  if (!strcmp(name, "out_off") || !strcmp(name, "in_off")) {
    p = name[0] == 'o' ? out.off : in.off, n = nv + 1, size = 8, fmt = "Q";
  } else if (!strcmp(name, "out_nbr") || !strcmp(name, "in_nbr")) {
    p = name[0] == 'o' ? out.nbr : in.nbr, n = m, size = 4, fmt = "I";
  } else if (!strcmp(name, "in_slot")) {
    p = in.slot, n = m, size = 4, fmt = "I";
  } else if (!strcmp(name, "weights")) {
    p = gasp_graph_weights(s->g), n = m, size = 8, fmt = "d";
    if (!p) Py_RETURN_NONE;
  } else {
    PyErr_Format(PyExc_ValueError, "no graph array '%s'", name);
    return NULL;
  }
  ViewObject *v = PyObject_New(ViewObject, &ViewType);
  if (!v) return NULL;
  Py_INCREF(s);
  v->owner = (PyObject *)s;
  v->ptr = (void *)p;
  v->n = n;
  v->itemsize = size;
  snprintf(v->format, sizeof v->format, "%s", fmt);
  return (PyObject *)v;
}

/* graph._ids(out): the original id of every vertex into a uint64 buffer */
static PyObject *graph_ids(GraphObject *s, PyObject *arg) {
  gasp_vid n = gasp_graph_num_vertices(s->g);
  Py_buffer b;
  if (get_buf(arg, &b, 'u', 8, 1, n, 0, "ids") < 0) return NULL;
  uint64_t *out = b.buf;
  for (gasp_vid v = 0; v < n; v++) out[v] = gasp_graph_gid(s->g, v);
  rel(&b);
  Py_RETURN_NONE;
}

/* graph._names(): the vertex names (vocabulary words), None without */
static PyObject *graph_names(GraphObject *s, PyObject *unused) {
  (void)unused;
  gasp_vid n = gasp_graph_num_vertices(s->g);
  PyObject *list = NULL;
  for (gasp_vid v = 0; v < n; v++) {
    const char *name = gasp_graph_name(s->g, v);
    if (!name && !list) continue;
    if (!list) {
      list = PyList_New(n);
      if (!list) return NULL;
      for (gasp_vid u = 0; u < n; u++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(list, u, Py_None);
      }
    }
    if (!name) continue;
    PyObject *str = PyUnicode_DecodeUTF8(name, strlen(name), "replace");
    if (!str) {
      Py_DECREF(list);
      return NULL;
    }
    Py_DECREF(PyList_GET_ITEM(list, v));
    PyList_SET_ITEM(list, v, str);
  }
  if (!list) Py_RETURN_NONE;
  return list;
}

static PyObject *graph_save(GraphObject *s, PyObject *arg) {
  PyObject *bytes;
  if (!PyUnicode_FSConverter(arg, &bytes)) return NULL;
  gasp_error err;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = gasp_graph_save_snapshot(s->g, PyBytes_AS_STRING(bytes), &err);
  Py_END_ALLOW_THREADS;
  Py_DECREF(bytes);
  if (rc) return raise_gasp(rc, &err);
  Py_RETURN_NONE;
}

static PyObject *graph_stats(GraphObject *s, PyObject *arg) {
  int threads = (int)PyLong_AsLong(arg);
  if (threads == -1 && PyErr_Occurred()) return NULL;
  gasp_graph_stats st;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = gasp_graph_stats_compute(s->g, threads, &st);
  Py_END_ALLOW_THREADS;
  if (rc) return raise_gasp(rc, NULL);
  return Py_BuildValue(
      "{sKsKsKsKsKsKsKsKsdsKsKsKsNsN}", "vertices", st.vertices, "edges",
      st.edges, "self_loops", st.self_loops, "duplicate_edges",
      st.duplicate_edges, "min_out_degree", st.min_out_degree,
      "max_out_degree", st.max_out_degree, "min_in_degree", st.min_in_degree,
      "max_in_degree", st.max_in_degree, "mean_degree", st.mean_degree,
      "isolated", st.isolated, "left_vertices", st.left_vertices,
      "right_vertices", st.right_vertices, "weighted",
      PyBool_FromLong(st.weighted), "bipartite", PyBool_FromLong(st.bipartite));
}

static PyMethodDef graph_methods[] = {
    {"_array", (PyCFunction)graph_array, METH_O, "a zero-copy graph array"},
    {"_ids", (PyCFunction)graph_ids, METH_O, "original ids into a buffer"},
    {"_names", (PyCFunction)graph_names, METH_NOARGS, "vertex names"},
    {"save", (PyCFunction)graph_save, METH_O,
     "save(path): write a binary snapshot that gasp.load reloads"},
    {"_stats", (PyCFunction)graph_stats, METH_O, "gasp info's figures"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject GraphType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gasp._gasp.Handle",
    .tp_basicsize = sizeof(GraphObject),
    .tp_dealloc = (destructor)graph_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a libgasp graph (made by gasp.load and gasp.Graph)",
    .tp_methods = graph_methods,
    .tp_getset = graph_getset,
};

/* ---- constructors ---------------------------------------------------- */

static PyObject *py_load(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *path;
  const char *format = NULL, *vocab = NULL;
  int weighted = -1, symmetric = 0, bipartite = 0, threads = 0;
  if (!PyArg_ParseTuple(args, "O&|zippzi", PyUnicode_FSConverter, &path,
                        &format, &weighted, &symmetric, &bipartite, &vocab,
                        &threads))
    return NULL;
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.weighted = weighted;
  o.symmetric = symmetric;
  o.bipartite = bipartite;
  o.threads = threads;
  o.vocab = vocab;
  if (format && gasp_format_parse(format, &o.format)) {
    Py_DECREF(path);
    return PyErr_Format(PyExc_ValueError, "unknown format '%s'", format);
  }
  gasp_graph *g = NULL;
  gasp_error err;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = gasp_graph_load(&g, PyBytes_AS_STRING(path), &o, &err);
  Py_END_ALLOW_THREADS;
  Py_DECREF(path);
  if (rc) return raise_gasp(rc, &err);
  return graph_wrap(g);
}

/* from_coo(src, dst, weight | None, num_vertices, flags, threads) */
static PyObject *py_from_coo(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *so, *dob, *wo;
  unsigned long long n;
  unsigned flags;
  int threads;
  if (!PyArg_ParseTuple(args, "OOOKIi", &so, &dob, &wo, &n, &flags, &threads))
    return NULL;
  Py_buffer s, d, w;
  if (get_buf(so, &s, 'u', 8, 0, -1, 0, "src") < 0) return NULL;
  Py_ssize_t m = s.len / 8;
  if (get_buf(dob, &d, 'u', 8, 0, m, 0, "dst") < 0) {
    rel(&s);
    return NULL;
  }
  if (get_buf(wo, &w, 'f', 8, 0, m, 1, "weight") < 0) {
    rel(&s), rel(&d);
    return NULL;
  }
  gasp_graph *g = NULL;
  gasp_error err;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = gasp_graph_from_coo(&g, (uint64_t)m, s.buf, d.buf, w.buf, n, flags,
                           threads, &err);
  Py_END_ALLOW_THREADS;
  rel(&s), rel(&d), rel(&w);
  if (rc) return raise_gasp(rc, &err);
  return graph_wrap(g);
}

/* from_csr(off, nbr, weight | None, flags, threads) */
static PyObject *py_from_csr(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *oo, *no, *wo;
  unsigned flags;
  int threads;
  if (!PyArg_ParseTuple(args, "OOOIi", &oo, &no, &wo, &flags, &threads))
    return NULL;
  Py_buffer off, nbr, w;
  if (get_buf(oo, &off, 'u', 8, 0, -1, 0, "indptr") < 0) return NULL;
  Py_ssize_t rows = off.len / 8 - 1;
  if (rows < 0) {
    rel(&off);
    return PyErr_Format(PyExc_ValueError, "indptr: at least one entry");
  }
  /* the library checks the offsets; the last one sizes the arrays */
  Py_ssize_t m = (Py_ssize_t)((const uint64_t *)off.buf)[rows];
  if (get_buf(no, &nbr, 'u', 8, 0, m, 0, "indices") < 0) {
    rel(&off);
    return NULL;
  }
  if (get_buf(wo, &w, 'f', 8, 0, m, 1, "weight") < 0) {
    rel(&off), rel(&nbr);
    return NULL;
  }
  gasp_graph *g = NULL;
  gasp_error err;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = gasp_graph_from_csr(&g, (uint64_t)rows, off.buf, nbr.buf, w.buf, flags,
                           threads, &err);
  Py_END_ALLOW_THREADS;
  rel(&off), rel(&nbr), rel(&w);
  if (rc) return raise_gasp(rc, &err);
  return graph_wrap(g);
}

/* ---- engine options and per-iteration traces ------------------------- */

/* Per-iteration figures, collected without the GIL, turned into a list of
 * tuples after the call. */
typedef struct trace {
  gasp_iter_info *it;
  size_t n, cap;
  int oom;
} trace;

static int trace_add(void *user, const gasp_iter_info *info) {
  trace *t = user;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    void *p = realloc(t->it, cap * sizeof *t->it);
    if (!p) {
      t->oom = 1;
      return 0;
    }
    t->it = p, t->cap = cap;
  }
  t->it[t->n++] = *info;
  return 0;
}

/* Appends (iteration, active, updates, residual, seconds) tuples to list
 * (when not None) and frees the figures. */
static int trace_flush(trace *t, PyObject *list) {
  int rc = 0;
  if (list != Py_None && t->oom) {
    PyErr_NoMemory();
    rc = -1;
  }
  for (size_t i = 0; !rc && list != Py_None && i < t->n; i++) {
    const gasp_iter_info *x = &t->it[i];
    PyObject *row = Py_BuildValue("(KKKdd)", x->iteration, x->active,
                                  x->updates, x->residual, x->seconds);
    if (!row || PyList_Append(list, row) < 0) rc = -1;
    Py_XDECREF(row);
  }
  free(t->it);
  memset(t, 0, sizeof *t);
  return rc;
}

/* eng: (threads, engine, consistency, scheduler, max_iter) with None for
 * the toolkit's default and max_iter < 0 for its default; trace: a list
 * to fill, or None. */
static int engine_opts(gasp_engine_opts *o, PyObject *eng, PyObject *tl,
                       trace *t) {
  int threads;
  const char *kind, *cons, *sched;
  long long max_iter;
  if (!PyArg_ParseTuple(eng, "izzzL", &threads, &kind, &cons, &sched,
                        &max_iter))
    return -1;
  if (threads < 0 || threads > GASP_MAX_THREADS) {
    PyErr_Format(PyExc_ValueError, "threads: 0 (all cores) to %d",
                 GASP_MAX_THREADS);
    return -1;
  }
  o->threads = threads;
  if (kind && gasp_engine_kind_parse(kind, &o->engine)) {
    PyErr_Format(PyExc_ValueError, "engine: 'sync' or 'async', not '%s'", kind);
    return -1;
  }
  if (cons && gasp_consistency_parse(cons, &o->consistency)) {
    PyErr_Format(PyExc_ValueError,
                 "consistency: 'vertex', 'edge' or 'full', not '%s'", cons);
    return -1;
  }
  if (sched && gasp_scheduler_parse(sched, &o->scheduler)) {
    PyErr_Format(PyExc_ValueError,
                 "scheduler: 'fifo', 'sweep' or 'priority', not '%s'", sched);
    return -1;
  }
  if (max_iter >= 0) o->max_iter = (uint64_t)max_iter;
  if (tl != Py_None) {
    if (!PyList_Check(tl)) {
      PyErr_SetString(PyExc_TypeError, "trace: a list");
      return -1;
    }
    o->on_iteration = trace_add;
    o->on_iteration_user = t;
  }
  return 0;
}

static const char *reason_name(gasp_stop_reason r) {
  switch (r) {
  case GASP_STOP_CONVERGED: return "converged";
  case GASP_STOP_MAX_ITER: return "max_iter";
  default: return "stopped";
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* call_seconds: the library call's wall time (engine set-up included),
 * so a caller can tell the binding's own cost from the library's */
static PyObject *stats_dict(const gasp_run_stats *st, double call_seconds) {
  return Py_BuildValue("{sKsKsdsssisKsd}", "updates", st->updates,
                       "iterations", st->iterations, "seconds", st->seconds,
                       "reason", reason_name(st->reason), "threads",
                       st->threads, "pull_iterations", st->pull_iterations,
                       "call_seconds", call_seconds);
}

/* The end of every toolkit wrapper: release the buffers, turn the trace
 * into tuples, raise on failure, else return the stats. */
static double call_seconds; /* of the last RUN_LOCKED, read under the GIL */

static PyObject *finish(int rc, gasp_error *err, gasp_run_stats *st, trace *t,
                        PyObject *tl, Py_buffer *bufs, int nbufs) {
  double secs = call_seconds;
  for (int i = 0; i < nbufs; i++) rel(&bufs[i]);
  if (trace_flush(t, tl) < 0) return NULL;
  if (rc) return raise_gasp(rc, err);
  return stats_dict(st, secs);
}

/* Runs `call` with the GIL released and the graph's lock held, and keeps
 * its wall time in call_seconds once the GIL is back. */
#define RUN_LOCKED(G, call)                                                   \
  do {                                                                        \
    double t0_, t1_;                                                          \
    Py_BEGIN_ALLOW_THREADS;                                                   \
    PyThread_acquire_lock((G)->lock, WAIT_LOCK);                              \
    t0_ = now();                                                              \
    call;                                                                     \
    t1_ = now();                                                              \
    PyThread_release_lock((G)->lock);                                         \
    Py_END_ALLOW_THREADS;                                                     \
    call_seconds = t1_ - t0_;                                                 \
  } while (0)

/* Checks a source vertex index against the graph. */
static int source_ok(GraphObject *G, long long source) {
  if (source >= 0 && source < (long long)gasp_graph_num_vertices(G->g))
    return 1;
  PyErr_Format(PyExc_IndexError, "source %lld: not a vertex index (0 .. %u)",
               source, gasp_graph_num_vertices(G->g) - 1);
  return 0;
}

/* ---- toolkits -------------------------------------------------------- */

/* pagerank(G, out, damping, tol, teleport | None, weighted, eng, trace) */
static PyObject *py_pagerank(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *tele, *eng, *tl;
  gasp_pagerank_opts o;
  gasp_pagerank_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OddOpOO", &GraphType, &G, &out, &o.damping,
                        &o.tol, &tele, &o.weighted, &eng, &tl))
    return NULL;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_ssize_t n = gasp_graph_num_vertices(G->g);
  Py_buffer b[2];
  if (get_buf(out, &b[0], 'f', 8, 1, n, 0, "ranks") < 0) return NULL;
  if (get_buf(tele, &b[1], 'f', 8, 0, n, 1, "personalization") < 0) {
    rel(&b[0]);
    return NULL;
  }
  o.teleport = b[1].buf;
  gasp_run_stats st = {0};
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_pagerank(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 2);
}

/* A toolkit over one output array of vertex-sized items. */
#define ONE_OUTPUT(KIND, SIZE, WHAT)                                          \
  trace t = {0};                                                              \
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;                   \
  Py_buffer b[1];                                                             \
  if (get_buf(out, &b[0], KIND, SIZE, 1, gasp_graph_num_vertices(G->g), 0,    \
              WHAT) < 0)                                                      \
    return NULL;                                                              \
  gasp_run_stats st = {0};                                                    \
  gasp_error err;                                                             \
  int rc

/* cc(G, out, algorithm, seed, eng, trace) */
static PyObject *py_cc(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  int alg;
  gasp_cc_opts o;
  gasp_cc_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OiKOO", &GraphType, &G, &out, &alg, &o.seed,
                        &eng, &tl))
    return NULL;
  o.algorithm = (gasp_cc_algorithm)alg;
  ONE_OUTPUT('u', 4, "component");
  RUN_LOCKED(G, rc = gasp_cc(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* labelprop(G, out, eng, trace) */
static PyObject *py_labelprop(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_labelprop_opts o;
  gasp_labelprop_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOO", &GraphType, &G, &out, &eng, &tl))
    return NULL;
  ONE_OUTPUT('u', 4, "labels");
  RUN_LOCKED(G, rc = gasp_labelprop(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* kcore(G, out, eng, trace) */
static PyObject *py_kcore(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_kcore_opts o;
  gasp_kcore_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOO", &GraphType, &G, &out, &eng, &tl))
    return NULL;
  ONE_OUTPUT('u', 4, "core");
  RUN_LOCKED(G, rc = gasp_kcore(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* sssp(G, source, out, directed, eng, trace) */
static PyObject *py_sssp(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  long long source;
  gasp_sssp_opts o;
  gasp_sssp_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!LOpOO", &GraphType, &G, &source, &out,
                        &o.directed, &eng, &tl))
    return NULL;
  if (!source_ok(G, source)) return NULL;
  ONE_OUTPUT('f', 8, "dist");
  RUN_LOCKED(G, rc = gasp_sssp(G->g, &o, (gasp_vid)source, b[0].buf, &st,
                               &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* bfs(G, source, depth, parent | None, undirected, eng, trace) */
static PyObject *py_bfs(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *par, *eng, *tl;
  long long source;
  gasp_bfs_opts o;
  gasp_bfs_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!LOOpOO", &GraphType, &G, &source, &out, &par,
                        &o.undirected, &eng, &tl))
    return NULL;
  if (!source_ok(G, source)) return NULL;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_ssize_t n = gasp_graph_num_vertices(G->g);
  Py_buffer b[2];
  if (get_buf(out, &b[0], 'u', 4, 1, n, 0, "depth") < 0) return NULL;
  if (get_buf(par, &b[1], 'u', 4, 1, n, 1, "parent") < 0) {
    rel(&b[0]);
    return NULL;
  }
  gasp_run_stats st = {0};
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_bfs(G->g, &o, (gasp_vid)source, b[0].buf, b[1].buf,
                              &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 2);
}

/* triangles(G, per_vertex | None, eng, trace) -> (stats, totals) */
static PyObject *py_triangles(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_triangles_opts o;
  gasp_triangles_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOO", &GraphType, &G, &out, &eng, &tl))
    return NULL;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_buffer b[1];
  if (get_buf(out, &b[0], 'u', 8, 1, gasp_graph_num_vertices(G->g), 1,
              "triangles") < 0)
    return NULL;
  gasp_run_stats st = {0};
  gasp_triangles_totals tot = {0};
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_triangles(G->g, &o, b[0].buf, &tot, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  if (!sd) return NULL;
  return Py_BuildValue("(N{sKsKsK})", sd, "triangles", tot.triangles,
                       "wedges", tot.wedges, "edges", tot.edges);
}

/* colour(G, out, order, seed, eng, trace) -> (stats, colours used) */
static PyObject *py_colour(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  int order;
  gasp_colour_opts o;
  gasp_colour_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OiKOO", &GraphType, &G, &out, &order, &o.seed,
                        &eng, &tl))
    return NULL;
  o.order = (gasp_colour_order)order;
  ONE_OUTPUT('u', 4, "colour");
  uint32_t used = 0;
  RUN_LOCKED(G, rc = gasp_colour(G->g, &o, b[0].buf, &used, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  if (!sd) return NULL;
  return Py_BuildValue("(NI)", sd, used);
}

/* scc(G, out, eng, trace) -> (stats, components) */
static PyObject *py_scc(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_scc_opts o;
  gasp_scc_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOO", &GraphType, &G, &out, &eng, &tl))
    return NULL;
  ONE_OUTPUT('u', 4, "component");
  uint64_t count = 0;
  RUN_LOCKED(G, rc = gasp_scc(G->g, &o, b[0].buf, &count, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  if (!sd) return NULL;
  return Py_BuildValue("(NK)", sd, (unsigned long long)count);
}

/* closeness(G, out, harmonic, undirected, samples, seed, eng, trace) */
static PyObject *py_closeness(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_closeness_opts o;
  gasp_closeness_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OppKKOO", &GraphType, &G, &out, &o.harmonic,
                        &o.undirected, &o.samples, &o.seed, &eng, &tl))
    return NULL;
  ONE_OUTPUT('f', 8, "scores");
  RUN_LOCKED(G, rc = gasp_closeness(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* bc(G, out, undirected, samples, seed, norm, eng, trace) */
static PyObject *py_bc(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  int norm;
  gasp_bc_opts o;
  gasp_bc_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OpKKiOO", &GraphType, &G, &out,
                        &o.undirected, &o.samples, &o.seed, &norm, &eng, &tl))
    return NULL;
  o.norm = (gasp_bc_norm)norm;
  ONE_OUTPUT('f', 8, "scores");
  RUN_LOCKED(G, rc = gasp_bc(G->g, &o, b[0].buf, &st, &err));
  return finish(rc, &err, &st, &t, tl, b, 1);
}

/* diameter(G, ecc, exact, undirected, bits, seed, eng, trace)
 * -> (stats, info) */
static PyObject *py_diameter(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_diameter_opts o;
  gasp_diameter_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OppiKOO", &GraphType, &G, &out, &o.exact,
                        &o.undirected, &o.bits, &o.seed, &eng, &tl))
    return NULL;
  ONE_OUTPUT('u', 4, "eccentricities");
  gasp_diameter_info in;
  memset(&in, 0, sizeof in);
  RUN_LOCKED(G, rc = gasp_diameter(G->g, &o, b[0].buf, NULL, 0, &in, &st,
                                   &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  if (!sd) return NULL;
  return Py_BuildValue("(N{sisKsKsdsdsdsI})", sd, "exact", in.exact,
                       "diameter", (unsigned long long)in.diameter, "radius",
                       (unsigned long long)in.radius, "effective", in.effective,
                       "pairs", in.pairs, "rse", in.rse, "registers",
                       in.registers);
}

/* jacobi(G, b | None, x, tol, eng, trace) -> (stats, info) */
static PyObject *py_jacobi(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *bo, *out, *eng, *tl;
  gasp_jacobi_opts o;
  gasp_jacobi_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOdOO", &GraphType, &G, &bo, &out, &o.tol,
                        &eng, &tl))
    return NULL;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_ssize_t n = gasp_graph_num_vertices(G->g);
  Py_buffer b[2];
  if (get_buf(out, &b[0], 'f', 8, 1, n, 0, "x") < 0) return NULL;
  if (get_buf(bo, &b[1], 'f', 8, 0, n, 1, "b") < 0) {
    rel(&b[0]);
    return NULL;
  }
  gasp_run_stats st = {0};
  gasp_jacobi_info in;
  memset(&in, 0, sizeof in);
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_jacobi(G->g, &o, b[1].buf, b[0].buf, &in, &st,
                                 &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 2);
  if (!sd) return NULL;
  return Py_BuildValue("(N{sKsdsdsisi})", sd, "sweeps",
                       (unsigned long long)in.sweeps, "max_change",
                       in.max_change, "residual", in.residual, "converged",
                       in.converged, "dominant", in.dominant);
}

/* kmeans(G, points, dim, k, seed, tol, init | None, clusters, centres, eng,
 * trace) -> (stats, info) */
static PyObject *py_kmeans(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *po, *io, *out, *co, *eng, *tl;
  int dim;
  gasp_kmeans_opts o;
  gasp_kmeans_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OiiKdOOOOO", &GraphType, &G, &po, &dim, &o.k,
                        &o.seed, &o.tol, &io, &out, &co, &eng, &tl))
    return NULL;
  if (dim < 1 || o.k < 1)
    return PyErr_Format(PyExc_ValueError, "dim and k: at least 1");
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_ssize_t n = gasp_graph_num_vertices(G->g);
  Py_buffer b[4];
  memset(b, 0, sizeof b);
  if (get_buf(out, &b[0], 'u', 4, 1, n, 0, "clusters") < 0 ||
      get_buf(co, &b[1], 'f', 8, 1, (Py_ssize_t)o.k * dim, 0, "centres") < 0 ||
      get_buf(po, &b[2], 'f', 8, 0, n * dim, 0, "points") < 0 ||
      get_buf(io, &b[3], 'f', 8, 0, (Py_ssize_t)o.k * dim, 1, "init") < 0) {
    for (int i = 0; i < 4; i++) rel(&b[i]);
    return NULL;
  }
  o.init = b[3].buf;
  gasp_run_stats st = {0};
  gasp_kmeans_info in;
  memset(&in, 0, sizeof in);
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_kmeans(G->g, &o, b[2].buf, dim, b[0].buf, b[1].buf,
                                 &in, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 4);
  if (!sd) return NULL;
  return Py_BuildValue("(N{sKsdsi})", sd, "iterations",
                       (unsigned long long)in.iterations, "objective",
                       in.objective, "converged", in.converged);
}

static PyObject *mf_info_dict(PyObject *sd, const gasp_mf_info *in) {
  return Py_BuildValue("(N{sdsdsdsd})", sd, "mean", in->mean, "min_rating",
                       in->min_rating, "max_rating", in->max_rating,
                       "train_rmse", in->train_rmse);
}

/* als(G, factors, rank, lambda, alpha, seed, eng, trace)
 * -> (stats, info) */
static PyObject *py_als(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  int nmf = 0;
  if (!PyArg_ParseTuple(args, "O!OiddKOO|p", &GraphType, &G, &out, &o.rank,
                        &o.lambda, &o.alpha, &o.seed, &eng, &tl, &nmf))
    return NULL;
  if (o.rank < 1 || o.rank > 1024)
    return PyErr_Format(PyExc_ValueError, "rank: 1 .. 1024, not %d", o.rank);
  o.engine.gpu = GASP_GPU_OFF;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_buffer b[1];
  if (get_buf(out, &b[0], 'f', 4, 1,
              (Py_ssize_t)gasp_graph_num_vertices(G->g) * o.rank, 0,
              "factors") < 0)
    return NULL;
  gasp_run_stats st = {0};
  gasp_mf_info info;
  memset(&info, 0, sizeof info);
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = nmf ? gasp_nmf(G->g, &o, b[0].buf, &info, &st, &err)
                         : gasp_als(G->g, &o, b[0].buf, &info, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  return sd ? mf_info_dict(sd, &info) : NULL;
}

/* sgd(G, factors, bias | None, rank, lambda, lr, decay, lambda_bias, seed,
 *     eng, trace) -> (stats, info); biased when bias is an array */
static PyObject *py_sgd(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *bias, *eng, *tl;
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OOiddddKOO", &GraphType, &G, &out, &bias,
                        &o.rank, &o.lambda, &o.lr, &o.decay, &o.lambda_bias,
                        &o.seed, &eng, &tl))
    return NULL;
  if (o.rank < 1 || o.rank > 1024)
    return PyErr_Format(PyExc_ValueError, "rank: 1 .. 1024, not %d", o.rank);
  o.biased = bias != Py_None;
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  Py_ssize_t n = gasp_graph_num_vertices(G->g);
  Py_buffer b[2];
  if (get_buf(out, &b[0], 'f', 4, 1, n * o.rank, 0, "factors") < 0)
    return NULL;
  if (get_buf(bias, &b[1], 'f', 4, 1, n, 1, "bias") < 0) {
    rel(&b[0]);
    return NULL;
  }
  gasp_run_stats st = {0};
  gasp_mf_info info;
  memset(&info, 0, sizeof info);
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_sgd(G->g, &o, b[0].buf, b[1].buf, &info, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 2);
  return sd ? mf_info_dict(sd, &info) : NULL;
}

/* lda(G, counts, topics, alpha, beta, seed, eng, trace) -> (stats, info);
 * with a trace, the log-likelihood is evaluated after every sweep */
static PyObject *py_lda(PyObject *self, PyObject *args) {
  (void)self;
  GraphObject *G;
  PyObject *out, *eng, *tl;
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  if (!PyArg_ParseTuple(args, "O!OiddKOO", &GraphType, &G, &out, &o.topics,
                        &o.alpha, &o.beta, &o.seed, &eng, &tl))
    return NULL;
  if (o.topics < 1 || o.topics > GASP_LDA_MAX_TOPICS)
    return PyErr_Format(PyExc_ValueError, "topics: 1 .. %d, not %d",
                        GASP_LDA_MAX_TOPICS, o.topics);
  trace t = {0};
  if (engine_opts(&o.engine, eng, tl, &t) < 0) return NULL;
  o.sweep_loglik = tl != Py_None;
  Py_buffer b[1];
  if (get_buf(out, &b[0], 'u', 4, 1,
              (Py_ssize_t)gasp_graph_num_vertices(G->g) * o.topics, 0,
              "counts") < 0)
    return NULL;
  gasp_run_stats st = {0};
  gasp_lda_info info;
  memset(&info, 0, sizeof info);
  gasp_error err;
  int rc;
  RUN_LOCKED(G, rc = gasp_lda(G->g, &o, b[0].buf, &info, &st, &err));
  PyObject *sd = finish(rc, &err, &st, &t, tl, b, 1);
  if (!sd) return NULL;
  return Py_BuildValue("(N{sdsKsKsKsdsdss})", sd, "loglik", info.loglik,
                       "documents", info.documents, "words", info.words,
                       "tokens", info.tokens, "sampling_seconds",
                       info.sampling_seconds, "alpha",
                       o.alpha > 0 ? o.alpha : 50.0 / o.topics, "kernel",
                       info.kernel ? info.kernel : "");
}

/* ---- module ---------------------------------------------------------- */

static PyObject *py_version(PyObject *self, PyObject *unused) {
  (void)self, (void)unused;
  return PyUnicode_FromString(gasp_version_string());
}

static PyMethodDef module_methods[] = {
    {"load", py_load, METH_VARARGS, NULL},
    {"from_coo", py_from_coo, METH_VARARGS, NULL},
    {"from_csr", py_from_csr, METH_VARARGS, NULL},
    {"pagerank", py_pagerank, METH_VARARGS, NULL},
    {"cc", py_cc, METH_VARARGS, NULL},
    {"labelprop", py_labelprop, METH_VARARGS, NULL},
    {"kcore", py_kcore, METH_VARARGS, NULL},
    {"colour", py_colour, METH_VARARGS, NULL},
    {"scc", py_scc, METH_VARARGS, NULL},
    {"closeness", py_closeness, METH_VARARGS, NULL},
    {"bc", py_bc, METH_VARARGS, NULL},
    {"diameter", py_diameter, METH_VARARGS, NULL},
    {"jacobi", py_jacobi, METH_VARARGS, NULL},
    {"kmeans", py_kmeans, METH_VARARGS, NULL},
    {"sssp", py_sssp, METH_VARARGS, NULL},
    {"bfs", py_bfs, METH_VARARGS, NULL},
    {"triangles", py_triangles, METH_VARARGS, NULL},
    {"als", py_als, METH_VARARGS, NULL},
    {"sgd", py_sgd, METH_VARARGS, NULL},
    {"lda", py_lda, METH_VARARGS, NULL},
    {"version", py_version, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_gasp",
    "libgasp bindings; use the gasp package, not this module", -1,
    module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__gasp(void) {
  if (PyType_Ready(&GraphType) < 0 || PyType_Ready(&ViewType) < 0)
    return NULL;
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  GaspError = PyErr_NewExceptionWithDoc(
      "gasp.GaspError",
      "A libgasp call failed: str() is the library's message, .code the "
      "negative GASP_E* status and .name its name (e.g. 'EPARSE').",
      NULL, NULL);
  if (!GaspError || PyModule_AddObject(m, "GaspError", GaspError) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  Py_INCREF(GaspError);
  Py_INCREF(&GraphType);
  PyModule_AddObject(m, "Handle", (PyObject *)&GraphType);
  PyModule_AddIntConstant(m, "BUILD_WEIGHTED", GASP_BUILD_WEIGHTED);
  PyModule_AddIntConstant(m, "BUILD_BIPARTITE", GASP_BUILD_BIPARTITE);
  PyModule_AddIntConstant(m, "BUILD_SYMMETRIC", GASP_BUILD_SYMMETRIC);
  PyModule_AddIntConstant(m, "CC_AUTO", GASP_CC_AUTO);
  PyModule_AddIntConstant(m, "CC_AFFOREST", GASP_CC_AFFOREST);
  PyModule_AddIntConstant(m, "CC_LABELPROP", GASP_CC_LABELPROP);
  return m;
}
