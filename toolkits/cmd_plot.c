/*
 * cmd_plot.c -- gasp plot: the plots are drawn by the Python package
 * (python/gasp/plot.py, matplotlib), which this command runs as
 * `python3 -m gasp plot ARGS...` ($GASP_PYTHON names another interpreter),
 * so the C build needs no plotting library.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_plot(int argc, char **argv) {
  const char *py = getenv("GASP_PYTHON");
  if (!py || !*py) py = "python3";
  char **args = calloc((size_t)argc + 4, sizeof *args);
  if (!args) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  args[0] = (char *)py;
  args[1] = "-m";
  args[2] = "gasp";
  args[3] = "plot";
  for (int i = 1; i < argc; i++) args[3 + i] = argv[i];
  fflush(stdout);
  execvp(py, args);
  cli_error("cannot run %s: %s (gasp plot needs python3 with the gasp "
            "package and matplotlib: pip install ./python)",
            py, strerror(errno));
  free(args);
  return EXIT_RUNTIME;
}
