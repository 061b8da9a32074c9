"""python3 -m enhanced_redis_storage reconcile ... (see reconcile.main), or suite-worker ...
(the stability suite's writer, see suite_worker.main)."""

import sys

if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else None
    if verb == "reconcile":
        from .reconcile import main
    elif verb == "suite-worker":
        from .suite_worker import main
    else:
        sys.stderr.write(
            "usage: python3 -m enhanced_redis_storage reconcile --redis URL --sqlite PATH [...]\n"
            "       python3 -m enhanced_redis_storage suite-worker --redis URL --sqlite PATH --study NAME [...]\n"
        )
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
