"""The hypervisor's cached guest walks follow the guest's page-table changes.

arch/x86/guest_mem.c keeps, per vCPU, the last walk for instruction fetches
and for data, and reuses it only if each guest entry it read still holds
the same value (and the p2m has not changed). dom0's bench (cmdline `bench`,
guest/dom0/test/bench.c `bench_check_translations`) remaps one virtual page
from `ds ds ds cpuid; ret` to `cpuid; inc rsi; ret`, and a hypercall buffer
from one line to another: a stale translation measures the second CPUID as
5 bytes (QEMU's SVM has no NRIP save, so Keel fetches it) and skips the INC,
or prints the first line twice.
"""
from keeltest import (boot, expect_lines_in_order, expect_no_line, expect_status, test,
                      POWEROFF)


@test("isolation-svm-cached-walks-follow-guest-pte-changes", timeout=300)
def _():
    r = boot("cmdline console=com1,115200 loglvl=info\n"
             "module dom0 /dom0.elf bench bench_iters=100\n", loader="bios", timeout=240)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"translation-check: FAIL", "a stale cached walk")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: bench translation-check: data page A$",
        r"^\(d0\) dom0: bench translation-check: data page B$",
        r"^\(d0\) dom0: bench translation-check: PASS CPUID lengths follow the PTE change",
        r"^\(d0\) dom0: bench done"])
    expect_status(r, POWEROFF)
