"""A short soak (tests/soak.py, guest/dom0/test/soak.c) inside `make test`, so
the scenario keeps working between the long `make soak` runs: a few
create/destroy cycles of each kind and two hostile rounds, with the
hypervisor's free frames, domains, event-channel ports and grant
frames/mappings (KEEL_SYSCTL_counts) back to their starting values."""

import datetime
import importlib.util
import os

from keeltest import boot, fail, test

_spec = importlib.util.spec_from_file_location(
    "keel_soak", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "soak.py"))
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)


@test("soak-short-counts-come-back", timeout=300)
def _():
    """8 domU lifetimes (never run, run to completion, destroyed while
    spinning, destroyed under a channel dom0 holds) and 4000 random
    hypercalls from hostile domUs in 2 rounds: every count back."""
    extra = "cycles=8 calls=4000 rounds=2 seed=7"
    started = datetime.datetime.now(datetime.timezone.utc)
    r = boot(soak.soak_cfg(extra), timeout=240)
    result = soak.check(r, extra, r.seconds, started)
    if result["problems"]:
        fail(result["problems"][0], "\n".join(result["problems"][1:]) + "\n" + r.tail(40))
    if result["hostile_rounds"] != 2 or len(result["counts"]) != 4:
        fail("expected 2 hostile rounds and 4 count lines, got %d and %d"
             % (result["hostile_rounds"], len(result["counts"])), r.tail(40))
