"""Keep the cyclic garbage collector's full passes short in a serving process.

Start-up leaves a few hundred thousand objects that live as long as the process: the
password policy's dictionaries, every module, the ORM's mappers, FastAPI's routes. The
collector's oldest generation goes over all of them on each full pass, which finds
nothing to free there and, in a worker serving `/me`, stalled the loop 80 to 200 ms a few
times a minute: most of the requests' p99 (bench/results.md). `gc.freeze()` moves them
out of the collector's sight (they are still freed by reference counting), so a full
pass sees only what the requests left behind.
"""

import gc

_frozen = False


def freeze_startup_objects() -> None:
    """Collect once, then freeze what survives; once per process.

    Once: a process that builds several apps (the test suite) pays the collection only
    for the first, and nothing a later app leaves behind is kept out of the collector's
    reach.
    """
    global _frozen
    if _frozen:
        return
    gc.collect()  # what is garbage now must not be frozen with the rest
    gc.freeze()
    _frozen = True
