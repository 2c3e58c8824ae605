/*
 * pvtest, the minimal PV domU (guest/pvtest/): its roles and helpers.
 *
 * dom0 starts it with a command line naming a role and the values it
 * needs to find its peers (domain ids, event-channel ports, grant refs):
 *
 *   role=pong peer=D port=P gref=R count=N   answers N pings on port P
 *                                            (dom0 allocated it, unbound
 *                                            for D) and grants page R to D
 *   role=ping peer=D rport=P gref=R count=N  binds to D's port P, sends N
 *                                            pings, maps grant R of D
 *   role=spin                                spins forever, never exiting
 *   role=work steps=N                        computes, then powers off
 *   role=hostile victim=D port=P gref=R calls=N seed=S ramtop=A [exits=E]
 *                                            bad inputs, N random calls,
 *                                            E random exit-causing
 *                                            instructions (hostile_exits.c)
 *   role=victim hostile=D rport=P gref=R [notifier=N storm=0|1 storm_s=S]
 *                                            grants page R read-only to D
 *                                            and checks it is left alone
 *                                            (port P is N's, default D)
 *   role=rowriter granter=D gref=R           maps D's grant R read-only
 *                                            and writes to it: must be
 *                                            killed by the hypervisor
 *   role=timer [rounds=N] [dregs=1]          one-shot and periodic timers,
 *                                            VIRQ_TIMER, wallclock (and
 *                                            its own DR0-3 kept)
 *   role=granter peer=D port=P gref=R        grants a page to D, notifies
 *                                            on P, sleeps until destroyed
 *   role=meddler [wbinvd=N] [ms=M] [arm=B]   sets CR8 = 15 and DR0-3/DR7,
 *                                            runs N WBINVDs, checks they
 *                                            stayed its own (meddler.c)
 *   role=simd tag=T [rounds=N]               FPU/SIMD isolation checks
 *                                            (pvtest-simd.elf only;
 *                                            guest/pvtest/simd/simd.c)
 *   role=flood peer=D rport=P bytes=N e9=M   floods the console, then
 *                                            notifies D's port P
 *   role=ticker port=P [period_ms=T]         measures timer lateness until
 *                                            P is notified (flood.c)
 *   role=spec [rounds=N]                     speculation-control CPUID and
 *                                            MSRs (guest/lib/spec_check.c),
 *                                            its SPEC_CTRL over N yields
 *   role=pvcons [bytes=N] [input=1]          writes through its PV console
 *                                            ring only: a banner, a burst
 *                                            of N bytes of numbered lines,
 *                                            then echoes one input line
 *   role=pvcons-hostile                      corrupts its console ring's
 *                                            out_prod (pvcons.c)
 *   role=tscaux tag=T [rounds=N]             its own IA32_TSC_AUX seen by
 *                                            RDTSCP over N yields (tscaux.c)
 *   role=tpr [hold_ms=M]                     CR8 holds back the per-vCPU
 *                                            upcall vector, not the
 *                                            callback vector (tpr.c)
 *   role=lapic                               the virtual LAPIC: registers,
 *                                            self-IPIs, TPR, timer modes
 *   role=lapic-hostile [rounds=N seed=S]     the SDM's x2APIC read rules,
 *                                            then N random LAPIC accesses
 *                                            (lapic.c)
 *   role=lapic-smp                           (2 vCPUs) INIT/SIPI starts
 *                                            vCPU 1; IPIs both ways
 *   role=xs [xs_peer=D]                      xenstore checks through the
 *                                            xenbus client: "xs: PASS/FAIL
 *                                            <check>", "xs: done ..." (xs.c)
 *   role=xs-hostile [xs_msgs=N xs_idle_s=S]  bad inputs on its store ring,
 *                                            "xs-hostile: sent N"
 *                                            (xs_hostile.c)
 *   role=modules count=N                     its start info's modlist: N
 *                                            modules in RAM, each one's
 *                                            size, cmdline and FNV-1a sum
 *                                            (modules.c)
 *   role=blk devid=N [order=O] [ro=1]        PV block frontend: pattern
 *                                            over the whole disk at QD 1
 *                                            and 32, read back (blk.c)
 *   role=blk-hostile devid=N kind=K          breaks the blkif protocol one
 *                                            way; the backend must close
 *                                            (blk_hostile.c)
 *   role=blk-pg-hostile devid=N              misuses persistent grants in
 *                                            ways the backend must serve
 *                                            (blk_pg_hostile.c)
 *
 *   role=net peer=MAC count=N               frames through its vif and
 *                                            dom0's bridge to a peer (net.c)
 *   role=net-hostile bad=CLASS,...           bad tx slots per class (net.c)
 *   role=net-slowrx peer=MAC phases=K        a frontend that posts its rx
 *                                            buffers late, and the sender
 *   role=net-burst peer=MAC phases=NxL,...   bursting to it (netslow.c)
 *   role=inet ip=A.B.C.D[/N] peer=A.B.C.D    ARP, ICMP echo and a UDP stream
 *        [pings=N udp=N rate=R port=P]       to and from a peer IPv4 stack
 *                                            through its vif (inet.c)
 *   role=disknet devid=N ip=A peer=B         a disk and a vif used in turn:
 *                                            sectors written and read back,
 *                                            then pings to B (disknet.c)
 *
 * Every role ends with a line "pvtest: <role>: PASS ..." or
 * "pvtest: <role>: FAIL ..." and powers off (crashes on FAIL).
 */
#ifndef PVTEST_H
#define PVTEST_H

#include <lib/types.h>
#include <public/start_info.h>

/* Reads key's number from the command line; a missing or bad value
 * fails the role (FAIL line, crash). */
u64 arg_u64(const char *key);
/* Like arg_u64, with a default when the key is absent. */
u64 arg_u64_or(const char *key, u64 dflt);

/* Prints "pvtest: <role>: FAIL <why>" and crashes the domain. */
__noreturn __printf(1, 2) void fail(const char *fmt, ...);

/* The role name, for messages. */
extern const char *role;

/* Waits until `port` is pending (masked: no upcall), at most timeout_ns;
 * clears it. Fails the role on time-out. */
void wait_port(u32 port, u64 timeout_ns, const char *what);

void role_ping(const struct hvm_start_info *si);

/* bench.c: `make bench`'s roles, and main.c's two RDTSCs (guest_main's
 * entry, after its first console line) for role=bench-start. */
extern u64 pvtest_tsc_entry, pvtest_tsc_first_line;
void role_bench_start(void);
void role_bench_ping(void);
void role_bench_pong(void);
void role_net(const struct hvm_start_info *si);
void role_net_hostile(const struct hvm_start_info *si);
void role_net_slowrx(const struct hvm_start_info *si);
void role_net_burst(const struct hvm_start_info *si);
void role_net_sink(const struct hvm_start_info *si);
void role_inet(const struct hvm_start_info *si);
void role_disknet(const struct hvm_start_info *si);

/* role=inet's pieces (inet.c), for other roles: an IPv4 host on vif 0.
 * Each fails the role on error. arg_ip parses key=A.B.C.D[/N] from the
 * command line (prefix left as given without /N); up connects the vif
 * and starts the endpoint (UDP port `port` counted; needs pages_init,
 * gnttab_init, xenbus_init); resolve ARPs for peer (60 s); ping sends
 * `count` echo requests one at a time and returns the replies; down
 * closes the vif (every grant back). */
u32 pvinet_arg_ip(const struct hvm_start_info *si, const char *key, unsigned *prefix);
void pvinet_up(u32 addr, unsigned prefix, u16 port);
void pvinet_resolve(u32 peer);
u64 pvinet_ping(u32 peer, u64 count);
void pvinet_down(void);
void role_pong(const struct hvm_start_info *si);
void role_hostile(const struct hvm_start_info *si);
void role_victim(const struct hvm_start_info *si);
void role_rowriter(const struct hvm_start_info *si);
void role_timer(void);
void role_granter(const struct hvm_start_info *si);
void role_meddler(void);
/* Linked into pvtest-simd.elf only (weak: NULL in plain pvtest). */
void role_simd(const struct hvm_start_info *si) __attribute__((weak));
void role_flood(void);
void role_ticker(void);
void role_spec(void);
void role_pvcons(void);
void role_pvcons_hostile(void);
void role_tpr(void);
void role_lapic(void);
void role_lapic_hostile(void);
void role_lapic_smp(void);
void role_tscaux(void);
void role_stringio(void);
void role_vcputime(void);
void role_xs(void);
/* role=xs-ticker [period_ms=100] [ticks=N]: a xenstore write (data/tick)
 * every period, each followed by a console_io line "pvtest: xs-tick K at
 * T ms": dom0's xenstored answers the writes from its event loop, so the
 * lines stop while that loop is held up (linux-pvh-create-keeps-dom0-serving). */
void role_xs_ticker(void);
void role_xs_hostile(void);
void role_modules(const struct hvm_start_info *si);
void role_platform(const struct hvm_start_info *si);
void role_guest(const struct hvm_start_info *si);
void role_blk(const struct hvm_start_info *si);
void role_blk_hostile(const struct hvm_start_info *si);
void role_blk_pg_hostile(const struct hvm_start_info *si);

/* The hostile role's exit-level phase (hostile_exits.c): n random
 * exit-causing or privileged instructions, then n / 10 physmap and
 * vCPU-area hypercalls with hostile arguments; prints the counts of what
 * it issued and what each got. scratch_area: 64 KiB of our RAM ending
 * at ram_top that may be spoiled. Fails the role if the hypervisor
 * stops honouring a valid runstate area afterwards. */
void hostile_exits(u64 n, u64 seed, u8 *scratch_area, u64 ram_top, domid_t victim);

/* xorshift64*: a small deterministic generator for the fuzzer. */
u64 rng_next(u64 *state);

#endif
