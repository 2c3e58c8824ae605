/* dom0's internal interfaces. */
#ifndef GUEST_DOM0_H
#define GUEST_DOM0_H

#include <public/start_info.h>

/* RDTSC at guest_main's entry and after its first console line (main.c). */
extern u64 dom0_tsc_entry, dom0_tsc_first_line;

/* The operator's shell on the serial console (cmdline `shell`): starts
 * the service, then runs the event loop for ever. */
__noreturn void dom0_shell(const struct hvm_start_info *si);
/* Only starts the shell's service on the loop (scenarios that run the
 * loop themselves); 0 or -errno. */
int dom0_shell_start(const struct hvm_start_info *si);

/* Reports shared by boot and the shell (main.c). */
void dom0_print_memmap(const struct hvm_start_info *si);
void dom0_print_modules(const struct hvm_start_info *si);

#endif
