#!/bin/sh
# Runs the CUDA example on the bundled sample: the device apply (or, with
# no device, the CPU fallback) must give the CPU apply's ranks.
exec "${GASP_BUILDDIR:-.}/examples/pagerank_gpu" "${GASP_SRCDIR:-..}/data/sample.el" auto
