"""python3 -m gasp plot ...: the plots of gasp.plot from the command line."""
import sys

from .plot import USAGE, main


def run(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] != "plot":
        print(f"gasp: python3 -m gasp: unknown command '{argv[0]}' (only 'plot')",
              file=sys.stderr)
        return 2
    return main(argv[1:])


sys.exit(run(sys.argv[1:]))
