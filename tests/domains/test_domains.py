"""Domain control, scheduling and PV time with real domUs: dom0 builds
pvtest domUs from the image in its boot modules (keel.cfg `module pvtest
/pvtest.elf`) with domctl, runs a scenario (guest/dom0/test/domains.c, cmdline
`test=domains scenario=...`), destroys them and checks that the
hypervisor's free-page count (sysctl physinfo) is back where it was.

Every scenario prints `dom0: domains: check NAME: GOT (want WANT)` lines
and ends with `dom0: domains: SCENARIO: PASS ...` (dom0 powers off) or
`... FAIL ...` (dom0 crashes, so the machine stops with "crash")."""

import os
import random
import re

from keeltest import (boot, expect_domains_sound, expect_lines_in_order, expect_no_line, expect_status, fail, test,
                      POWEROFF)

T = 150


def cfg(scenario, extra=""):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=%s %s\n"
            "module pvtest /pvtest.elf\n" % (scenario, extra))


def run_scenario(scenario, extra="", loader="uefi", timeout=T):
    """Boots the scenario and checks what every scenario must show: its
    PASS line, no failed check, free pages back, a healthy hypervisor."""
    r = boot(cfg(scenario, extra), loader=loader, timeout=timeout)
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: %s: PASS" % scenario,
        r"^keel: domain 0 \(dom0\) shut down: poweroff",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


def domu_prefix(r, name):
    """The (dN) console prefix of the domU dom0 created under `name`."""
    m = re.search(r"^keel: domain (\d+) \(%s\) created by dom0" % name, r.log, re.M)
    if not m:
        fail("the hypervisor did not report creating domain '%s'" % name, r.tail(60))
    return r"\(d%s\)" % m.group(1)


@test("domains-two-domu-pingpong", timeout=T + 60)
def _():
    """Two pvtest domUs find each other through their command lines (an
    unbound port dom0 allocated, the peer's id, a grant ref), exchange
    10,000 event-channel pings, share a granted page whose halves each
    verifies, power off; dom0 destroys them and gets every page back."""
    r = run_scenario("pingpong", "count=10000")
    pong, ping = domu_prefix(r, "pong"), domu_prefix(r, "ping")
    expect_lines_in_order(r.log, [
        r"^keel: domain \d+ \(pong\) created by dom0: 1 vCPUs",
        r"^keel: domain \d+ \(ping\) created by dom0: 1 vCPUs",
        r"^%s pvtest: ping: bound to d\d+ port \d+ as port \d+" % ping,
        r"^%s pvtest: ping: mapped d\d+'s grant 8: first half verified" % ping,
        r"^%s pvtest: ping: PASS 10000 round trips" % ping,
        r"^keel: domain \d+ \(ping\) shut down: poweroff",
        r"^keel: domain \d+ \(pong\) destroyed",
        r"^keel: domain \d+ \(ping\) destroyed",
        r"^\(d0\) dom0: domains: pingpong: PASS 10000 pings",
    ])
    expect_lines_in_order(r.log, [
        r"^%s pvtest: pong: page granted to d\d+ as ref 8" % pong,
        r"^%s pvtest: pong: PASS 10000 pings answered in \d+ ms; peer's half of the page "
        r"verified, grant revoked" % pong,
        r"^keel: domain \d+ \(pong\) shut down: poweroff",
    ])


def work_checksum(steps, per_step=2000000):
    """The checksum pvtest's work loops print after `steps` steps:
    sum = sum * A + i (mod 2**64) for i in 0..per_step-1, per step. Each
    step is the same affine map sum -> M*sum + C, computed here by
    doubling rather than by running the loop."""
    a, mask = 6364136223846793005, (1 << 64) - 1

    # (m, c, n) describes "apply x -> a*x + i for i = base..base+n-1"
    # relative to base: x -> m*x + c + k*base with k = sum of a^j.
    def compose(f, g):  # f then g, g's indices following f's
        fm, fc, fk, fn = f
        gm, gc, gk, gn = g
        # g runs on indices fn..fn+gn-1: its constant gets gk*fn added.
        return ((gm * fm) & mask, (gm * fc + gc + gk * fn) & mask, (gm * fk + gk) & mask, fn + gn)

    result, power, n = (1, 0, 0, 0), (a, 0, 1, 1), per_step
    while n:
        if n & 1:
            result = compose(result, power)
        power = compose(power, power)
        n >>= 1
    m, c = result[0], result[1]
    total = 0
    for _ in range(steps):
        total = (m * total + c) & mask
    return total


def check_hostile(r, calls, seed, extra_hypercalls=0):
    """What every hostile run must show: the hostile domU's measured
    counts (directed checks, `calls` random hypercalls each refused or
    accepted), the hypervisor's own hypercall-exit counter (printed by
    dom0) at least as high as the calls the domU made, the victim's page
    intact after the directed checks and again after everything else,
    its work's checksum right, and neither domU killed. Returns the
    hostile domain's exit counters as dom0 printed them."""
    hostile, victim = domu_prefix(r, "hostile"), domu_prefix(r, "victim")
    m = re.search(r"pvtest: hostile: PASS (\d+) directed checks; (\d+) random hypercalls made "
                  r"\((\d+) refused, (\d+) accepted\); still alive", r.log)
    if not m:
        fail("the hostile domU did not report surviving its calls (random seed %d)" % seed,
             r.tail(60))
    directed, made, refused, accepted = (int(g) for g in m.groups())
    print("hostile domU: %d directed checks, %d random hypercalls (%d refused, %d accepted), "
          "seed %d" % (directed, made, refused, accepted, seed))
    if directed < 50 or made != calls or refused + accepted != made:
        fail("expected at least 50 directed checks and %d random calls made, each refused "
             "or accepted (seed %d): %s" % (calls, seed, m.group(0)))
    hid = hostile[3:-2]
    x = re.search(r"dom0: domains: d%s exits: hypercall (\d+), extint (\d+), hlt (\d+), io (\d+), "
                  r"npf (\d+), cpuid (\d+)" % hid, r.log)
    if not x:
        fail("dom0 did not print the hostile domain's exit counts", r.tail(60))
    counters = dict(zip(("hypercall", "extint", "hlt", "io", "npf", "cpuid"),
                        (int(g) for g in x.groups())))
    if counters["hypercall"] < made + directed + extra_hypercalls:
        fail("the hypervisor counted %d hypercall exits from the hostile domU, fewer than the "
             "%d it made (seed %d)" % (counters["hypercall"], made + directed + extra_hypercalls,
                                       seed), r.tail(60))
    expect_lines_in_order(r.log, [
        r"^%s pvtest: victim: page granted read-only to d\d+ as ref 8" % victim,
        r"^%s pvtest: hostile: check grant-map-readonly-grant-writable: -1 \(Xen: -1\)" % hostile,
        r"^%s pvtest: hostile: check domctl-destroy-dom0: -1 \(Xen: -1\)" % hostile,
        r"^%s pvtest: hostile: \d+ directed checks, 0 mismatches" % hostile,
        r"^%s pvtest: hostile: check evtchn-close-interdomain: 0 \(Xen: 0\)" % hostile,
        r"^%s pvtest: hostile: PASS" % hostile,
        r"^keel: domain \d+ \(hostile\) shut down: poweroff",
        r"^\(d0\) dom0: domains: hostile: PASS",
    ])
    steps = 40
    expect_lines_in_order(r.log, [
        r"^%s pvtest: victim: page intact after the directed checks" % victim,
        r"^%s pvtest: victim: step %d/%d" % (victim, steps, steps),
        r"^%s pvtest: victim: page intact after the random calls" % victim,
        r"^%s pvtest: victim: grant revoked" % victim,
        r"^%s pvtest: victim: PASS page left alone, %d steps done \(checksum %x\)$"
        % (victim, steps, work_checksum(steps)),
        r"^keel: domain \d+ \(victim\) shut down: poweroff",
    ])
    expect_no_line(r.log, r"^keel: domain \d+ \((hostile|victim)\) vCPU \d+ killed",
                   "neither domU may die (seed %d)" % seed)
    return counters


@test("domains-hostile-domu", timeout=T + 60)
def _():
    """A hostile domU sends Xen's bad inputs (bad ports, grant refs, vCPU
    and domain ids, double closes, a grant not granted to it, a read-only
    grant mapped writable, a frame over memory it does not own, destroying
    dom0, hostile counts), each checked against Xen's error, then 10,000
    random hypercalls, and proves it is alive. The counts are the ones it
    measured, and the hypervisor's own exit counter (printed by dom0) must
    have seen at least that many hypercalls. The victim domU that granted
    it a page finds the page intact after the directed checks and again
    after the random calls (the grant stays in place through them), and
    its work gives the right checksum; dom0 is unaffected."""
    seed = random.randrange(1, 1 << 31)
    r = run_scenario("hostile", "calls=10000 seed=%d" % seed)
    check_hostile(r, 10000, seed)
    expect_lines_in_order(r.log, [r"pvtest: hostile: 10000 random hypercalls made"])


# The kinds of guest/pvtest/hostile_exits.c, in the order it reports them.
EXIT_KINDS = ["cpuid", "rdmsr", "wrmsr", "port", "cr", "xsetbv", "invlpg", "cache", "mov-dr",
              "svm-insn", "vmx-insn", "vmcall-vmmcall", "rdtscp-rdpid-rdpmc", "monitor-mwait",
              "xsaves", "misc-priv"]
PHYSMAP_CALLS = ["add_to_physmap", "remove_from_physmap", "register_vcpu_info",
                 "register_runstate_area"]


def hostile_exits(loader, exits, calls, kinds, timeout, wait_s):
    """The hostile scenario with the exit-level phase (exits=N): N random
    exit-causing and privileged instructions and N/10 physmap calls after
    the random hypercalls. Asserts what check_hostile() does, plus the
    counts the domU measured per kind (every kind issued, every
    instruction accounted for as completed, #UD, #GP or another fault),
    that no virtualization instruction ever completed, that both
    hypercall instructions were answered -ENOSYS, and that the
    hypervisor's own counters saw every port access and CPUID."""
    # KEEL_HOSTILE_SEED=N replays a run (each failure message names its seed).
    seed = int(os.environ.get("KEEL_HOSTILE_SEED") or random.randrange(1, 1 << 31))
    r = run_scenario("hostile", "calls=%d exits=%d exit_kinds=%d seed=%d wait_s=%d"
                     % (calls, exits, kinds, seed, wait_s), loader=loader, timeout=timeout)
    got = {}
    for m in re.finditer(r"pvtest: hostile: exits (\S+): (\d+) issued: (\d+) completed, (\d+) #UD, "
                         r"(\d+) #GP, (\d+) other", r.log):
        got[m.group(1)] = tuple(int(g) for g in m.groups()[1:])
    pm = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in re.finditer(
        r"pvtest: hostile: physmap (\S+): (\d+) issued, (\d+) accepted", r.log)}
    problems = []
    for k in EXIT_KINDS:
        if k not in got:
            problems.append("%s: not reported" % k)
            continue
        issued, ok, ud, gp, other = got[k]
        if issued == 0:
            problems.append("%s: none issued" % k)
        if ok + ud + gp + other != issued:
            problems.append("%s: %d issued but %d accounted for" % (k, issued, ok + ud + gp + other))
    total = sum(v[0] for v in got.values())
    if total != exits:
        problems.append("%d instructions issued in all, %d asked for" % (total, exits))
    for k in ("svm-insn", "vmx-insn"):
        if k in got and got[k][1]:
            problems.append("%s: %d completed; Keel offers no virtualization extensions"
                            % (k, got[k][1]))
    # A CPU without VMX, SMX and SGX raises #UD for all of theirs: natively
    # on AMD, injected by Keel on Intel (where they exit).
    if "vmx-insn" in got and got["vmx-insn"][2] != got["vmx-insn"][0]:
        problems.append("vmx-insn: %s (every one must raise #UD)" % (got["vmx-insn"],))
    # CPUID hides MONITOR/MWAIT and both back ends intercept them: #UD,
    # never a native MWAIT choosing the CPU's sleep state.
    if "monitor-mwait" in got and got["monitor-mwait"][2] != got["monitor-mwait"][0]:
        problems.append("monitor-mwait: %s (every one must raise #UD)" % (got["monitor-mwait"],))
    if "vmcall-vmmcall" in got and got["vmcall-vmmcall"][1] != got["vmcall-vmmcall"][0]:
        problems.append("vmcall-vmmcall: %s (each must return -ENOSYS)" % (got["vmcall-vmmcall"],))
    for c in PHYSMAP_CALLS:
        if pm.get(c, (0, 0))[0] == 0:
            problems.append("physmap %s: none issued" % c)
    if sum(v[0] for v in pm.values()) != exits // 10:
        problems.append("%d physmap calls, %d asked for" % (sum(v[0] for v in pm.values()),
                                                           exits // 10))
    # Hypercalls from user mode (CPL 3) asking for SCHEDOP_shutdown: each
    # refused with -EPERM (the domain lives on), and OUT/CLI there #GP.
    u = re.search(r"pvtest: hostile: user mode: (\d+) hypercalls \(SCHEDOP_shutdown\), (\d+) refused "
                  r"-EPERM; (\d+) privileged instructions, (\d+) #GP", r.log)
    want = 2 * max(exits // 100, 1)
    if not u:
        problems.append("no report of the user-mode hypercalls")
    elif [int(g) for g in u.groups()] != [want] * 4:
        problems.append("user mode: %s (want %d of each)" % (u.group(0), want))
    if problems:
        fail("exit fuzzing (seed %d): %s" % (seed, "; ".join(problems)), r.tail(60))
    print("exit fuzzing, seed %d: %s; physmap %s" % (
        seed, ", ".join("%s %s" % (k, got[k]) for k in EXIT_KINDS), pm))
    # The physmap calls are hypercalls too. (Half the vmcall-vmmcall kind
    # is the other vendor's instruction, which arrives as a #UD exit, so
    # that kind is not added.)
    counters = check_hostile(r, calls, seed, extra_hypercalls=exits // 10)
    # Every port access exits (a domU owns no port) and so does every
    # CPUID: the hypervisor's counters saw at least what the domU issued.
    if counters["io"] < got["port"][0] or counters["cpuid"] < got["cpuid"][0]:
        fail("the hypervisor counted io %d and cpuid %d exits; the domU issued %d and %d "
             "(seed %d)" % (counters["io"], counters["cpuid"], got["port"][0],
                            got["cpuid"][0], seed), r.tail(60))
    return r


@test("isolation-hostile-exits-svm", timeout=T + 120)
def _():
    """The exit-level hostile domU on QEMU (SVM): 20,000 random exit-causing
    or privileged instructions (CPUID, MSRs, ports, CR/DR access, XSETBV,
    INVLPG/INVPCID, INVD/WBINVD, SVM/VMX/SMX instructions, both hypercall
    instructions, RDTSCP/RDPID/RDPMC, MONITOR/MWAIT, XSAVES, ...) and
    2,000 physmap/vcpu_info/runstate calls with hostile arguments, after
    1,000 random hypercalls: the hypervisor, dom0 and the victim domU are
    unaffected, the counts add up. CR0/3/4/8 writes included
    (EXIT_KIND_CR_WRITES): Keel intercepts CR0/3/4 writes and refuses the
    invalid ones with #GP before they reach the VMCB (arch/x86/svm/cr.c);
    before that, QEMU's TCG ended the domain "VM entry failed"."""
    hostile_exits("uefi", exits=20000, calls=1000, kinds=0x1ffff, timeout=T + 60, wait_s=150)


@test("isolation-svm-cr-writes-refused-with-gp", timeout=T)
def _():
    """SVM (QEMU): the hostile domU's control-register kind alone, with
    writes (exit_kinds bit 4 + bit 16): CR0 bits 63:32, NW without CD, CR3
    bits above MAXPHYADDR and reserved CR4 bits must each raise #GP in
    the guest, valid writes (put back after) complete, and the domain
    lives. Before arch/x86/svm/cr.c, QEMU's TCG turned the first reserved
    CR3/CR4 write into VMEXIT_INVALID and Keel killed the domain "VM entry
    failed"."""
    seed = random.randrange(1, 1 << 31)
    r = run_scenario("hostile", "calls=10 exits=8000 exit_kinds=%d seed=%d wait_s=100"
                     % (0x10010, seed))
    expect_no_line(r.log, r"^keel: domain \d+ \(hostile\) vCPU \d+ killed",
                   "a refused CR write is the guest's #GP, not its death (seed %d)" % seed)
    m = re.search(r"pvtest: hostile: exits cr: (\d+) issued: (\d+) completed, (\d+) #UD, "
                  r"(\d+) #GP, (\d+) other", r.log)
    if not m:
        fail("the hostile domU did not report its CR accesses (seed %d)" % seed, r.tail(60))
    issued, ok, ud, gp, other = (int(g) for g in m.groups())
    print("CR accesses (seed %d): %d issued, %d completed, %d #UD, %d #GP, %d other"
          % (seed, issued, ok, ud, gp, other))
    if issued < 200 or gp == 0 or ok == 0 or other or ok + ud + gp != issued:
        fail("CR accesses (seed %d): %s; want at least 200, some completed, some #GP, "
             "no other fault" % (seed, m.group(0)), r.tail(60))
    check_hostile(r, 10, seed, extra_hypercalls=8000 // 10)


@test("isolation-hostile-exits-vmx", timeout=900)
def _():
    """The same under Bochs (VT-x with EPT), control-register writes
    included: 5,000 instructions and 500 physmap calls after 500 random
    hypercalls."""
    r = hostile_exits("bochs", exits=5000, calls=500, kinds=0x1ffff, timeout=780, wait_s=600)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])


@test("grant-readonly-mapping-write-kills-writer", timeout=T + 60)
def _():
    """A domU maps another domU's grant read-only (GNTMAP_readonly) and
    writes through the mapping: the hypervisor kills the writer with its
    one-line report (a write to a protected guest-physical address, the
    address it mapped), the granter keeps running and finds its page
    unchanged, and dom0 gets every page back."""
    r = run_scenario("rowrite")
    writer, victim = domu_prefix(r, "writer"), domu_prefix(r, "victim")
    m = re.search(r"^%s pvtest: rowriter: mapped d\d+'s grant 8 read-only at gpa (0x[0-9a-f]+), "
                  r"contents verified; writing to it$" % writer, r.log, re.M)
    if not m:
        fail("the writer did not map the victim's grant read-only", r.tail(60))
    # Each domain's console is drained on its own, so lines of two domUs
    # need not appear in causal order: the victim's grant line is checked
    # for presence, the order only within each domain and against dom0.
    expect_lines_in_order(r.log, [r"^%s pvtest: victim: page granted read-only to d\d+ as ref 8" % victim])
    expect_lines_in_order(r.log, [
        r"^%s pvtest: rowriter: mapped" % writer,
        r"^keel: domain %s \(writer\) vCPU 0 killed at RIP 0x[0-9a-f]+: write access to "
        r"protected guest-physical %s$" % (writer[3:-2], m.group(1)),
        r"^\(d0\) dom0: domains: check writer-crashed: 3 \(want 3\)",
        r"^\(d0\) dom0: domains: check victim-still-running: 1 \(want 1\)",
        r"^%s pvtest: victim: page intact after the peer finished" % victim,
        r"^%s pvtest: victim: grant revoked" % victim,
        r"^%s pvtest: victim: PASS page left alone" % victim,
        r"^\(d0\) dom0: domains: rowrite: PASS",
    ])
    expect_no_line(r.log, r"pvtest: rowriter: FAIL", "the write went through")


@test("sched-spinning-domu-preempted", timeout=T + 60)
def _():
    """A domU that spins forever with interrupts off and never exits does
    not stop a second domU from finishing its work: the host LAPIC timer
    ends the spinner's 10 ms slices. Both get a fair share of the CPU."""
    r = run_scenario("spin", "steps=40")
    spinner, worker = domu_prefix(r, "spinner"), domu_prefix(r, "worker")
    expect_lines_in_order(r.log, [
        r"^%s pvtest: spin: spinning forever" % spinner,
        r"^%s pvtest: work: step 40/40" % worker,
        r"^%s pvtest: work: PASS 40 steps done" % worker,
        r"^keel: domain \d+ \(worker\) shut down: poweroff",
        r"^\(d0\) dom0: domains: check spinner-still-running: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check fair-share-within-3x: 1 \(want 1\)",
        r"^keel: domain \d+ \(spinner\) destroyed",
    ])
    m = re.search(r"dom0: domains: d\d+ exits: hypercall \d+, extint (\d+)", r.log)
    if not m or int(m.group(1)) < 10:
        fail("the spinner should have been interrupted by the host timer many times",
             r.tail(40))


@test("sched-handoff-does-not-starve-a-spinning-domu", timeout=T + 60)
def _():
    """Two domUs ping-pong through masked ports and SCHEDOP_poll next to a
    third that spins forever with four times their weight: the
    scheduler's fast pass (the direct handoff to the woken peer,
    docs/sched.md) carries most switches, the pair still finishes, and the
    spinner gets its weighted share (at least 0.9 x 1024/1536 of the time)
    while they run: the handoff picks only what the policy would, and
    charges the pair for every run."""
    r = run_scenario("pingpong-spin", "count=5000 weight=1024")
    spinner = domu_prefix(r, "spinner")
    expect_lines_in_order(r.log, [
        r"^%s pvtest: spin: spinning forever" % spinner,
        r"pvtest: ping: PASS 5000 round trips",
        r"^\(d0\) dom0: domains: check spinner-got-its-weighted-share: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check handoffs-carried-the-pingpong: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: pingpong-spin: PASS 5000 pings next to a spinner",
    ])


@test("sched-vmx-spinning-domu-preempted", timeout=480)
def _():
    """The spinning-domU scenario under Bochs (VT-x): a domU that spins
    with interrupts off and never exits still loses the CPU every slice,
    so the worker finishes and both get a fair share. Bochs does not exit
    on a host interrupt while the guest's IF is 0, so this relies on the
    VMX-preemption timer the back end arms from the slice's end."""
    r = run_scenario("spin", "steps=10", loader="bochs", timeout=420)
    spinner, worker = domu_prefix(r, "spinner"), domu_prefix(r, "worker")
    expect_lines_in_order(r.log, [
        r"^keel: virtualization: VMX \(",
        r"^%s pvtest: spin: spinning forever" % spinner,
        r"^%s pvtest: work: step 10/10" % worker,
        r"^%s pvtest: work: PASS 10 steps done" % worker,
        r"^keel: domain \d+ \(worker\) shut down: poweroff",
        r"^\(d0\) dom0: domains: check spinner-still-running: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check fair-share-within-3x: 1 \(want 1\)",
        r"^keel: domain \d+ \(spinner\) destroyed",
    ])
    m = re.search(r"dom0: domains: d\d+ exits: hypercall \d+, extint \d+, .* preempt (\d+)",
                  r.log)
    if not m or int(m.group(1)) < 10:
        fail("the spinner should have been stopped by the preemption timer many times",
             r.tail(40))


@test("domctl-dom0-control-and-bad-inputs", timeout=T)
def _():
    """Domain control from dom0 (and, on the way, the domU's pvclock): create (chosen or given id), max_mem,
    populate, PVH build from an image in dom0's memory, pause counting,
    unpause, getdomaininfo/getvcpuinfo, weights, exit counters,
    SCHEDOP_remote_shutdown, sysctl physinfo and domain list, destroy;
    and dom0's own bad inputs (bad ids, destroying itself, hostile sizes,
    a bad image) get Xen's errors and change nothing."""
    r = run_scenario("domctl")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check destroy-self: -22 \(want -22\)",
        r"^\(d0\) dom0: domains: check free-pages-unchanged-after-refusals",
        r"^keel: domain 40 \(control\) created by dom0: 2 vCPUs",
        r"^\(d0\) dom0: domains: check populate-more-than-the-machine: -12 \(want -12\)",
        r"^keel: domain 40: PVH kernel 0x200000-0x[0-9a-f]+, entry 0x200000",
        r"^\(d40\) pvtest: work: PASS 2 steps done",
        r"^keel: domain 40 \(control\) shut down: poweroff",
        r"^keel: domain \d+ \(victim\) shut down: reboot",
        r"^keel: domain 40 \(control\) destroyed",
        r"^\(d0\) dom0: domains: domctl: PASS \d+ checks",
    ])
    check_pvclock(r)


def check_pvclock(r):
    """PV time as a domU sees it: the pvclock in its vcpu_info gives the
    hypervisor's system time (ns since boot) with the TSC rate the
    hypervisor measured and the TSC_STABLE flag."""
    m = re.search(r"^\(d40\) pvtest: work: system time (\d+) ms, TSC (\d+) kHz \(stable\)",
                  r.log, re.M)
    if not m:
        fail("the domU did not report a stable pvclock", r.tail(40))
    ms, khz = int(m.group(1)), int(m.group(2))
    hv = re.search(r"^keel: time: TSC (\d+) kHz", r.log, re.M)
    if not hv:
        fail("the hypervisor did not report its TSC rate")
    if abs(khz - int(hv.group(1))) > int(hv.group(1)) // 1000 + 1:
        fail("the domU computes a TSC rate of %d kHz from its pvclock, the hypervisor "
             "measured %s kHz" % (khz, hv.group(1)))
    if not 0 < ms < 120000:
        fail("system time %d ms at the domU's start is not plausible" % ms)


@test("time-domu-timers-fire-on-time", timeout=T)
def _():
    """PV timers in a domU: one-shot timers (VCPUOP_set_singleshot_timer
    and set_timer_op) raise VIRQ_TIMER never before their deadline by the
    guest's own pvclock; VCPU_SSHOTTMR_future refuses a past deadline with
    -ETIME, a past deadline without it fires at once, stopped timers stay
    quiet; the periodic timer ticks every period until stopped; the
    registered runstate area counts a sleep as blocked time; the wallclock
    in shared_info is a plausible date."""
    r = run_scenario("timer")
    t = domu_prefix(r, "timer")
    expect_lines_in_order(r.log, [
        r"^%s pvtest: timer: system time \d+ ms, TSC \d+ kHz \(stable\)" % t,
        r"^%s pvtest: timer: 20 one-shot timers fired on time" % t,
        r"^%s pvtest: timer: future flag, past deadline and stop behave as in Xen" % t,
        r"^%s pvtest: timer: 10 periodic ticks of 5 ms in \d+ ms, none after stop" % t,
        r"^%s pvtest: timer: runstate area: \d+ ms blocked over a 30 ms sleep" % t,
        r"^%s pvtest: timer: PASS wallclock \d+ s since 1970" % t,
        r"^\(d0\) dom0: domains: timer: PASS",
    ])


@test("domains-vmx-two-domu-pingpong", timeout=420)
def _():
    """The ping-pong scenario under Bochs (VT-x with EPT), shorter: the
    same domain builder, event channels, grants and destruction through
    the VMX back end, every page back."""
    r = run_scenario("pingpong", "count=1000", loader="bochs", timeout=360)
    expect_lines_in_order(r.log, [
        r"^keel: virtualization: VMX \(",
        r"pvtest: ping: mapped d\d+'s grant 8: first half verified",
        r"pvtest: ping: PASS 1000 round trips",
        r"^\(d0\) dom0: domains: pingpong: PASS 1000 pings",
    ])


@test("domctl-destroy-keeps-page-another-domain-maps", timeout=T)
def _():
    """Destroying a domU whose granted page dom0 still maps: the page
    stays allocated and intact for dom0, the domain is listed as dying;
    when dom0 unmaps it the page goes back to the allocator, the id is
    freed, and the free-page count is what it was before the domU."""
    r = run_scenario("zombie")
    expect_lines_in_order(r.log, [
        r"pvtest: granter: page granted read-only to d0 as ref 8",
        r"^keel: domain \d+ \(granter\) destroyed; 1 frames still mapped by other domains",
        r"^\(d0\) dom0: domains: check listed-as-dying: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check page-still-readable-and-intact: 1 \(want 1\)",
        r"^keel: domain \d+ \(granter\): last frames released, id free",
        r"^\(d0\) dom0: domains: check gone: -3 \(want -3\)",
        r"^\(d0\) dom0: domains: zombie: PASS",
    ])


@test("domctl-foreign-map-domu-pages", timeout=T)
def _():
    """dom0 maps a built domU's pages into its own physmap
    (XENMEM_add_to_physmap_batch, XENMAPSPACE_gmfn_foreign), as a toolstack
    does to load or inspect a guest: the page holds the image the builder
    loaded, two mappings are one frame, every mistake gets its error
    (-EBUSY, -ENOENT, -ESRCH, -EOPNOTSUPP), and pages mapped when the domU is
    destroyed outlive it until XENMEM_remove_from_physmap; then every page
    is back."""
    r = run_scenario("foreign")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check map-err: 0 \(want 0\)",
        r"^\(d0\) dom0: domains: check page-holds-the-loaded-image: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check both-mappings-are-one-frame: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check map-onto-a-mapped-slot: -16 \(want -16\)",
        r"^\(d0\) dom0: domains: check map-beyond-its-ram: -2 \(want -2\)",
        r"^\(d0\) dom0: domains: check remove-own-ram: -95 \(want -95\)",
        r"^\(d0\) dom0: domains: check listed-as-dying: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check gone: -3 \(want -3\)",
        r"^\(d0\) dom0: domains: foreign: PASS",
    ])
