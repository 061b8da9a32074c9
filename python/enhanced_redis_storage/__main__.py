"""python3 -m enhanced_redis_storage reconcile ... (see reconcile.main)."""

import sys

from .reconcile import main

if __name__ == "__main__":
    if sys.argv[1:2] != ["reconcile"]:
        sys.stderr.write("usage: python3 -m enhanced_redis_storage reconcile --redis URL --sqlite PATH [...]\n")
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
