/*
 * cmd_lbp.c -- `gasp lbp`: the command over gasp_lbp (lib_lbp.c, loopy
 * belief propagation, residual BP on the async engine's priority
 * scheduler or flooding BP on the sync engine).  Two inputs: a PGM image
 * (P2 or P5) to denoise on a 4-connected grid, as GraphLab's denoise demo
 * does, or a pairwise MRF in a factor-list text format; or --synthetic N,
 * a seeded noisy image of a few flat shapes.  Output: the denoised image
 * (PGM) or each variable's MAP state and beliefs (TSV).  The readers and
 * writers are in lbp_model.c.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"
#include "lbp_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  O_COLORS = OPT_FIRST_PRIVATE,
  O_SIGMA,
  O_SMOOTHING,
  O_POTENTIAL,
  O_TRUNCATE,
  O_DAMPING,
  O_SYNTHETIC,
  O_NOISE,
  O_NOISY_OUT,
  O_BELIEFS
};

static int handle(int opt, const char *arg, void *u) {
  lbp_args *a = u;
  static const char *const image_flags[] = {
      "--colors", "--sigma", "--smoothing", "--potential", "--truncate"};
  if (opt >= O_COLORS && opt <= O_TRUNCATE)
    a->image_flag = image_flags[opt - O_COLORS];
  if (opt == O_NOISE) a->synth_flag = "--noise";
  if (opt == O_NOISY_OUT) a->synth_flag = "--noisy-out";
  switch (opt) {
  case O_COLORS:
    if (cli_parse_int("--colors", arg, &a->colors)) return 1;
    if (a->colors < 2 || a->colors > 256) {
      cli_error("--colors must be 2 .. 256");
      return 1;
    }
    return 0;
  case O_SIGMA:
    if (cli_parse_double("--sigma", arg, &a->sigma)) return 1;
    if (!(a->sigma > 0) || !isfinite(a->sigma)) {
      cli_error("--sigma must be a positive number");
      return 1;
    }
    return 0;
  case O_SMOOTHING:
    if (cli_parse_double("--smoothing", arg, &a->smoothing)) return 1;
    if (!(a->smoothing >= 0) || !isfinite(a->smoothing)) {
      cli_error("--smoothing must be a number >= 0");
      return 1;
    }
    return 0;
  case O_POTENTIAL:
    if (!strcmp(arg, "potts"))
      a->linear = 0;
    else if (!strcmp(arg, "linear") || !strcmp(arg, "laplace"))
      a->linear = 1;
    else {
      cli_error("--potential: expected potts or linear, got '%s'", arg);
      return 1;
    }
    return 0;
  case O_TRUNCATE:
    if (cli_parse_double("--truncate", arg, &a->truncate)) return 1;
    if (!(a->truncate > 0)) {
      cli_error("--truncate must be positive");
      return 1;
    }
    return 0;
  case O_DAMPING:
    if (cli_parse_double("--damping", arg, &a->damping)) return 1;
    if (!(a->damping >= 0 && a->damping < 1)) {
      cli_error("--damping must be in [0, 1)");
      return 1;
    }
    return 0;
  case O_SYNTHETIC:
    if (cli_parse_int("--synthetic", arg, &a->synthetic)) return 1;
    if (a->synthetic < 2 || a->synthetic > 16384) {
      cli_error("--synthetic must be 2 .. 16384 (pixels a side)");
      return 1;
    }
    return 0;
  case O_NOISE:
    if (cli_parse_double("--noise", arg, &a->noise)) return 1;
    if (!(a->noise >= 0) || !isfinite(a->noise)) {
      cli_error("--noise must be a number >= 0");
      return 1;
    }
    return 0;
  case O_NOISY_OUT: a->noisy_out = arg; return 0;
  case O_BELIEFS: a->beliefs = arg; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp lbp -i IMAGE.pgm|MODEL [options]\n"
    "       gasp lbp --synthetic N [options]\n\n"
    "Loopy belief propagation (sum-product) on a pairwise Markov random\n"
    "field.  By default residual BP: the async engine with the priority\n"
    "scheduler, each update recomputing a variable's outgoing messages and\n"
    "signalling each neighbour whose message changed by more than --tol,\n"
    "with that change as its priority.  --engine sync runs flooding BP\n"
    "(every message each superstep) until no message changes by more than\n"
    "--tol.  The summary gives the vertex updates and seconds of either.\n\n"
    "Inputs (-i; a PGM is recognised by its magic number):\n"
    "  a PGM image (P2 or P5), denoised on its 4-connected grid: K grey\n"
    "  levels (--colors), unary exp(-(I - L_k)^2 / 2 sigma^2) for the\n"
    "  observed intensity I (scaled to 0 .. 255) and level L_k = 255 k /\n"
    "  (K - 1), and smoothing exp(-lambda d(x, y)) between neighbours, d the\n"
    "  Potts [x != y] or the truncated linear min(|x - y|, T); -o writes the\n"
    "  image of the most probable levels (PGM).\n"
    "  a factor list, lines of\n"
    "    var ID K p_1 ... p_K          a variable of K states, its unary\n"
    "                                  potentials\n"
    "    edge U V t_11 ... t_{Ku Kv}   a pairwise factor: K_U x K_V\n"
    "                                  potentials, row by row (row: U's "
    "state)\n"
    "  (ids non-negative integers; variables before the edges naming them;\n"
    "  potentials finite, >= 0 and not all 0; '#' comments); -o writes\n"
    "  'id<TAB>state<TAB>b_1 ... b_K' (most probable state, from 0, then\n"
    "  the beliefs) per variable in ascending id order.\n\n"
    "options:\n"
    "      --colors K       grey levels of an image (8)\n"
    "      --sigma S        noise of the unary, in 0 .. 255 units (30)\n"
    "      --smoothing L    lambda of the smoothing (2)\n"
    "      --potential P    potts (default) or linear (truncated linear)\n"
    "      --truncate T     of the linear potential, in levels (2)\n"
    "      --damping D      new = (1 - D) computed + D old (0)\n"
    "      --synthetic N    an N x N image of flat shapes at a few of the K\n"
    "                       levels plus Gaussian noise (--noise, --seed);\n"
    "                       the summary gives the error of the noisy and the\n"
    "                       denoised image against the clean one\n"
    "      --noise S        the synthetic image's noise (30)\n"
    "      --noisy-out F    write the synthetic noisy image (PGM)\n"
    "      --beliefs F      an image's beliefs as a factor list's -o writes\n"
    "                       them, the pixel's index (row-major) as its id\n"
    "      --tol X          largest message change (1e-5)\n"
    "      --max-iter N     sync supersteps; async updates / variables (1000)\n"
    "  --engine async (default) or sync; --scheduler priority (default),\n"
    "  fifo or sweep; --consistency edge (default) or full.  lbp runs in one\n"
    "  process (no --np): its messages live on arcs the program owns, which\n"
    "  the distributed engine does not carry between ranks.\n" TK_HELP;

/* fraction of pixels whose level differs from the clean image's */
static double level_error(const lbp_model *md, const uint32_t *lv) {
  uint64_t np = (uint64_t)md->w * md->h, bad = 0;
  for (uint64_t i = 0; i < np; i++)
    bad += lv[i] != md->truth[i];
  return (double)bad / (double)np;
}

int cmd_lbp(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  lbp_args a = {
      .colors = 8, .sigma = 30, .smoothing = 2, .truncate = 2, .noise = 30};
  static const struct option extra[] = {
      {"colors", required_argument, 0, O_COLORS},
      {"colours", required_argument, 0, O_COLORS},
      {"sigma", required_argument, 0, O_SIGMA},
      {"smoothing", required_argument, 0, O_SMOOTHING},
      {"potential", required_argument, 0, O_POTENTIAL},
      {"truncate", required_argument, 0, O_TRUNCATE},
      {"damping", required_argument, 0, O_DAMPING},
      {"synthetic", required_argument, 0, O_SYNTHETIC},
      {"noise", required_argument, 0, O_NOISE},
      {"noisy-out", required_argument, 0, O_NOISY_OUT},
      {"beliefs", required_argument, 0, O_BELIEFS},
      {0, 0, 0, 0}};
  o.takes &=
      ~(TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  o.one_process = "its messages live on arcs the program owns, which the "
                  "distributed engine does not carry between ranks";
  o.c.seed = 1;
  /* defaults that tell "not given" apart: priority, edge consistency */
  o.eng.scheduler = (gasp_scheduler)-1;
  o.eng.consistency = (gasp_consistency)-1;
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!o.engine_set) o.eng.engine = GASP_ENGINE_ASYNC;
  if (o.eng.scheduler == (gasp_scheduler)-1)
    o.eng.scheduler = GASP_SCHED_PRIORITY;
  if (o.eng.consistency == (gasp_consistency)-1)
    o.eng.consistency = GASP_CONSISTENCY_EDGE;
  int async = o.eng.engine == GASP_ENGINE_ASYNC;
  if (async && o.eng.consistency == GASP_CONSISTENCY_VERTEX) {
    cli_error("lbp: an update writes the messages on its edges: "
              "--consistency edge or full");
    return EXIT_USAGE;
  }
  if (!a.synthetic == !o.c.input) {
    cli_error("lbp: give an input (-i IMAGE.pgm or a factor list) or "
              "--synthetic N, one of them");
    return EXIT_USAGE;
  }
  if (o.c.format != GASP_FORMAT_AUTO) {
    cli_error("lbp: --format does not apply (a PGM is recognised by its "
              "magic number, anything else is read as a factor list)");
    return EXIT_USAGE;
  }
  if (a.synth_flag && !a.synthetic) {
    cli_error("lbp: %s is for the --synthetic image", a.synth_flag);
    return EXIT_USAGE;
  }
  lbp_model md;
  memset(&md, 0, sizeof md);
  tk_iter it = {0};
  double *belief = NULL;
  uint32_t *map = NULL;
  int image = 1;
  double t0 = cli_now();
  if (a.synthetic) {
    if ((rc = lbp_synthetic(&md, a.synthetic, a.colors, a.noise, o.c.seed)) ||
        (rc = lbp_grid_model(&md, &a)))
      goto out;
    if (a.noisy_out &&
        (rc = lbp_write_pgm(a.noisy_out, md.w, md.h, NULL, 0, md.pix)))
      goto out;
  } else if ((rc = lbp_read_input(&md, o.c.input, &a, &image))) {
    goto out;
  }
  if (!image && a.image_flag) {
    cli_error("lbp: %s is for images, and %s is a factor list", a.image_flag,
              o.c.input);
    rc = EXIT_USAGE;
    goto out;
  }
  double load_s = cli_now() - t0;
  belief = malloc((md.ulen ? md.ulen : md.n * (uint64_t)md.k) * sizeof *belief);
  map = malloc(md.n * sizeof *map);
  if (!belief || !map) {
    rc = lbp_oom();
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "lbp"))) goto out;
  gasp_mrf mrf = {md.n, md.card, md.unary, md.m,
                  md.u, md.v,    md.pair,  image ? md.poff : NULL};
  gasp_lbp_opts lo;
  gasp_lbp_opts_init(&lo);
  lo.engine = o.eng;
  lo.damping = a.damping;
  if (o.tol >= 0) lo.tol = o.tol;
  gasp_lbp_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_lbp(&mrf, &lo, belief, map, &info, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  if (o.c.output) {
    rc = image ? lbp_write_pgm(o.c.output, md.w, md.h, map, md.k, NULL)
               : lbp_write_beliefs(o.c.output, &md, belief, map);
    if (rc) goto out;
  }
  if (a.beliefs && (rc = lbp_write_beliefs(a.beliefs, &md, belief, map)))
    goto out;
  double noisy_err = -1, denoised_err = -1;
  if (md.truth) {
    uint64_t np = (uint64_t)md.w * md.h;
    uint32_t *nl = malloc(np * sizeof *nl);
    if (!nl) {
      rc = lbp_oom();
      goto out;
    }
    for (uint64_t i = 0; i < np; i++) /* the nearest level: no smoothing */
      nl[i] = (uint32_t)lround(md.pix[i] * (md.k - 1) / 255.0);
    noisy_err = level_error(&md, nl);
    denoised_err = level_error(&md, map);
    free(nl);
  }
  const char *sched = !async                                   ? "none"
                      : o.eng.scheduler == GASP_SCHED_PRIORITY ? "priority"
                      : o.eng.scheduler == GASP_SCHED_FIFO     ? "fifo"
                                                               : "sweep";
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "lbp");
    cli_json_str(&j, "input",
                 a.synthetic ? "synthetic"
                 : image     ? "pgm"
                             : "factors");
    cli_json_u64(&j, "variables", md.n);
    cli_json_u64(&j, "factors", md.m);
    if (image) {
      cli_json_u64(&j, "width", (uint64_t)md.w);
      cli_json_u64(&j, "height", (uint64_t)md.h);
      cli_json_u64(&j, "colors", (uint64_t)md.k);
    }
    cli_json_str(&j, "scheduler", sched);
    cli_json_num(&j, "tol", lo.tol);
    cli_json_num(&j, "residual", info.residual);
    if (md.truth) {
      cli_json_num(&j, "noisy_error", noisy_err);
      cli_json_num(&j, "denoised_error", denoised_err);
    }
    tk_json_run(&j, &st, async, info.converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: lbp: %s BP (%s) on %llu variables, %llu factors: %s after "
            "%llu vertex updates (%llu %s), residual %.3g, in %.3f s\n",
            async ? "residual" : "flooding", async ? sched : "sync",
            (unsigned long long)md.n, (unsigned long long)md.m,
            info.converged ? "converged" : "NOT converged",
            (unsigned long long)info.updates,
            (unsigned long long)info.iterations,
            async ? "sweeps" : "supersteps", info.residual, st.seconds);
    if (md.truth)
      fprintf(stderr,
              "gasp: lbp: pixels off the clean image: %.4f noisy, %.4f "
              "denoised\n",
              noisy_err, denoised_err);
  }
out:
  tk_iter_end(&it);
  lbp_model_free(&md);
  free(belief);
  free(map);
  return rc;
}
