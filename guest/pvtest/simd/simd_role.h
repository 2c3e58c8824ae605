/* pvtest-simd's role (guest/pvtest/simd/): see simd.c. */
#ifndef PVTEST_SIMD_ROLE_H
#define PVTEST_SIMD_ROLE_H

#include <lib/types.h>

/* The checksum's constants, shared by the vector loop and its scalar
 * reference. */
#define CK_A3 0x9e3779b9u
#define CK_B0 0x85ebca6bu
#define CK_B1 0xc2b2ae35u
#define CK_B2 0x27d4eb2fu
#define CK_B3 0x165667b1u
#define CK_MUL 0x01000193u

/* The checksum of `iters` steps from `seed`, computed in XMM registers
 * (checksum_sse2.c, built with -msse2). */
u64 simd_checksum_sse2(u64 seed, u64 iters);

#endif
