/*
 * Virtio 1.x over PCI, the modern interface only (OASIS Virtio 1.1:
 * 4.1 PCI transport, 2.6 split virtqueues, 3.1 device initialization),
 * shared by virtio-blk and virtio-net.
 *
 * Transitional devices (QEMU's default, device IDs 0x1000-0x103f) are
 * driven through their modern capabilities too; the legacy I/O BAR is
 * never touched. Interrupts: with MSI-X (virtio_use_msix before the
 * queues are set up) the configuration change and every queue use vector
 * 0 (4.1.5.1.2) and the ISR status register is not used; otherwise the
 * vectors are VIRTIO_MSI_NO_VECTOR and the ISR status register
 * acknowledges INTx (4.1.4.5).
 */
#ifndef DRIVERS_VIRTIO_H
#define DRIVERS_VIRTIO_H

#include "drv.h"
#include "pci/pci.h"

#define VIRTIO_PCI_VENDOR 0x1af4

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_VERSION_1 32

/* Split virtqueue layout (2.6). */
struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
/* avail->flags: the driver asks for no interrupt on used buffers (2.7.7). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq {
	u16 index;
	u16 size;           /* entries (a power of two) */
	volatile struct virtq_desc *desc;
	volatile u16 *avail; /* flags, idx, ring[size], used_event */
	volatile u16 *used_hdr; /* flags, idx */
	volatile struct virtq_used_elem *used;
	volatile void *notify; /* this queue's doorbell */
	u16 free_head;      /* chain of free descriptors through .next */
	u16 nr_free;
	u16 avail_idx;      /* our copy of avail->idx */
	u16 last_used;      /* used entries consumed so far */
	void **cookies;     /* per head descriptor */
	void *mem;          /* the ring memory (for freeing) */
	size_t mem_size;
};

struct virtio_dev {
	struct pci_dev *pci;
	volatile u8 *common;   /* virtio_pci_common_cfg */
	volatile u8 *notify_base;
	u32 notify_mult;
	volatile u8 *isr;
	volatile u8 *device;   /* device-specific configuration */
	u64 features;          /* negotiated */
	bool msix;             /* vector 0 for config and queues; no ISR */
};

/* A buffer of a request: device-readable unless `write`. */
struct vq_buf {
	const void *addr;
	u32 len;
	bool write;            /* the device writes it */
};

/*
 * Finds the capabilities, resets the device, acknowledges it and
 * negotiates VIRTIO_F_VERSION_1 plus whatever of `wanted` the device
 * offers (FEATURES_OK checked). 0, or -ENODEV (no modern interface) /
 * -EIO (the device refused), with the reason in d->note.
 */
int virtio_init(struct virtio_dev *vd, struct pci_dev *d, u64 wanted);

/* With `on` (the device's interrupt is its MSI-X entry 0): the
 * configuration-change vector and, in virtio_queue_init, each queue's
 * vector become 0, each read back (the device answers
 * VIRTIO_MSI_NO_VECTOR when it cannot map it). 0, or -EIO (vd->msix
 * stays false). Call after virtio_init, before virtio_queue_init. */
int virtio_use_msix(struct virtio_dev *vd, bool on);

/* Sets up queue `index` with at most `max_size` entries. 0 or -errno. */
int virtio_queue_init(struct virtio_dev *vd, struct virtq *q, u16 index, u16 max_size);

/* DRIVER_OK: the device may start. */
void virtio_ready(struct virtio_dev *vd);

/* Resets the device (every queue stops). */
void virtio_reset(struct virtio_dev *vd);

/* Device-specific configuration reads. */
u8 virtio_cfg8(struct virtio_dev *vd, unsigned off);
u16 virtio_cfg16(struct virtio_dev *vd, unsigned off);
u32 virtio_cfg32(struct virtio_dev *vd, unsigned off);
u64 virtio_cfg64(struct virtio_dev *vd, unsigned off);

/* Adds a chain of n buffers (device-readable ones first) and returns 0,
 * or -EBUSY when there are not n free descriptors. The chain becomes
 * visible to the device at the next virtq_kick(). */
int virtq_add(struct virtq *q, const struct vq_buf *bufs, unsigned n, void *cookie);
/* Publishes added chains and notifies the device. */
void virtq_kick(struct virtio_dev *vd, struct virtq *q);
/* The cookie of the next chain the device finished (its descriptors are
 * free again), *len = bytes it wrote; NULL when none. */
void *virtq_get(struct virtq *q, u32 *len);

#endif
