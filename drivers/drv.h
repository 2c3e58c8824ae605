/*
 * What a dom0 device driver (drivers/pci, virtio, block, net) may use:
 * the environment its image provides. Drivers include this and nothing
 * of guest/ directly, so that any guest image that implements these
 * functions (guest/dom0/drv_env.c for dom0) can link them.
 *
 * Addresses: drivers run identity-mapped with guest-physical = the
 * address a device sees (dom0 is 1:1 and there is no IOMMU), so a DMA
 * address is the buffer's pointer value (dma_addr()).
 */
#ifndef DRIVERS_DRV_H
#define DRIVERS_DRV_H

#include <lib/types.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <stdarg.h>

/* ---- provided by the image ------------------------------------------------ */

/* Log output (one line per call by convention, ending in \n). */
__printf(1, 2) int drv_log(const char *fmt, ...);

/* Zeroed, physically contiguous DMA memory: `bytes` rounded up to pages,
 * aligned to `align` (0 = 4 KiB). NULL when exhausted. */
void *dma_alloc(size_t bytes, size_t align);
void dma_free(void *p, size_t bytes);

/* Makes [pa, pa+len) of device memory addressable (uncached) and returns
 * its address, or NULL. Idempotent. */
void *drv_map_mmio(u64 pa, u64 len);

/* A monotonic clock in microseconds. It may run fast (never slow), so
 * waits and time-outs last at least what they say. */
u64 drv_now_us(void);
void drv_udelay(u64 us);

/*
 * Device interrupts. drv_irq_attach routes the device's interrupt to the
 * driver: entry 0 of its MSI-X table if it has one, else its MSI, else its
 * INTx line (in dom0: PHYSDEVOP_map_pirq and EVTCHNOP_bind_pirq; an
 * event channel on dom0's event loop; cmdline msi=off keeps INTx). NULL
 * when the device has no usable interrupt: the driver then polls. The
 * protocol:
 *   drv_irq_wait()  sleeps until the line fires or `us` passes (for
 *                   synchronous callers: probing, self-tests; never from
 *                   a function run by the image's event loop);
 *   or drv_irq_set_handler()'s function runs from the event loop each
 *                   time it fires (asynchronous completion);
 *   the driver acknowledges the device (reads/clears its status);
 *   drv_irq_done()  lets the line fire again (a level line stays masked
 *                   from the interrupt until then).
 */
struct pci_dev;
struct drv_irq;

struct drv_irq *drv_irq_attach(struct pci_dev *d);
/* The interrupt is MSI-X entry 0: the device must be told to use its
 * vector 0 (virtio: msix_config/queue_msix_vector; NVMe: the CQ's IV). */
bool drv_irq_is_msix(const struct drv_irq *irq);
/* True if the interrupt fired (now or while sleeping). */
bool drv_irq_wait(struct drv_irq *irq, u64 us);
void drv_irq_done(struct drv_irq *irq);
/* fn(arg) runs from the image's event loop (not in interrupt context)
 * each time the interrupt fires; NULL stops it. drv_irq_wait still sees
 * the interrupt afterwards. */
void drv_irq_set_handler(struct drv_irq *irq, void (*fn)(void *arg), void *arg);
/* Interrupts seen so far. */
u64 drv_irq_count(const struct drv_irq *irq);
/* "GSI 11, pirq 11, port 5" for reports. */
const char *drv_irq_name(const struct drv_irq *irq);

/* ---- helpers ------------------------------------------------------------- */

static inline u64 dma_addr(const void *p)
{
	return (u64)(uintptr_t)p;
}

/* Compiler and CPU ordering between normal memory (descriptors, rings)
 * and device accesses. x86 keeps stores in order and uncached MMIO is
 * strongly ordered; the fences make the intent explicit and cover
 * write-combining mappings. */
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void rmb(void) { __asm__ volatile("lfence" ::: "memory"); }
static inline void wmb(void) { __asm__ volatile("sfence" ::: "memory"); }

static inline u8 mmio_read8(const volatile void *a) { return *(const volatile u8 *)a; }
static inline u16 mmio_read16(const volatile void *a) { return *(const volatile u16 *)a; }
static inline u32 mmio_read32(const volatile void *a) { return *(const volatile u32 *)a; }
static inline void mmio_write8(volatile void *a, u8 v) { *(volatile u8 *)a = v; }
static inline void mmio_write16(volatile void *a, u16 v) { *(volatile u16 *)a = v; }
static inline void mmio_write32(volatile void *a, u32 v) { *(volatile u32 *)a = v; }
/* 64-bit registers as two dwords, low first: devices accept that (NVMe
 * 1.4, 3.1: "software may access 64-bit registers as two 32-bit ones"),
 * and the hypervisor's MMIO emulation never has to split. */
static inline u64 mmio_read64(const volatile void *a)
{
	u64 lo = mmio_read32(a);
	return lo | (u64)mmio_read32((const volatile u8 *)a + 4) << 32;
}
static inline void mmio_write64(volatile void *a, u64 v)
{
	mmio_write32(a, (u32)v);
	mmio_write32((volatile u8 *)a + 4, (u32)(v >> 32));
}

static inline u8 port_in8(u16 p) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline u16 port_in16(u16 p) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline u32 port_in32(u16 p) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void port_out8(u16 p, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline void port_out16(u16 p, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(p)); }
static inline void port_out32(u16 p, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p)); }

/* Polls cond (an expression) until true or `us` microseconds passed;
 * evaluates to true if it became true. */
#define drv_wait(cond, us)                                                    \
	({                                                                    \
		u64 dw_end_ = drv_now_us() + (us);                            \
		bool dw_ok_;                                                  \
		while (!(dw_ok_ = (cond)) && drv_now_us() < dw_end_)          \
			__asm__ volatile("pause" ::: "memory");               \
		dw_ok_ || (cond);                                             \
	})

#endif
