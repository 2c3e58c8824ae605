/*
 * The modern virtio-pci transport and split virtqueues; contract in
 * virtio.h. Section numbers are OASIS Virtio 1.1's.
 */
#include "virtio.h"

/* virtio_pci_cap.cfg_type (4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* virtio_pci_common_cfg offsets (4.1.4.3) */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_MSIX_CONFIG 0x10
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_NOTIFY_OFF 0x1e
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

#define VIRTIO_MSI_NO_VECTOR 0xffff

static volatile u8 *cap_region(struct pci_dev *d, u8 cap, u32 *len)
{
	u8 bar = pci_cfg_read(d, cap + 4, 1);
	u32 off = pci_cfg_read(d, cap + 8, 4);
	*len = pci_cfg_read(d, cap + 12, 4);
	if (bar > 5 || !d->bar[bar].size || d->bar[bar].io || off + (u64)*len > d->bar[bar].size)
		return NULL;
	volatile u8 *base = pci_bar_map(d, bar);
	return base ? base + off : NULL;
}

static void set_status(struct virtio_dev *vd, u8 bits)
{
	u8 s = mmio_read8(vd->common + CC_DEVICE_STATUS);
	mmio_write8(vd->common + CC_DEVICE_STATUS, s | bits);
}

void virtio_reset(struct virtio_dev *vd)
{
	mmio_write8(vd->common + CC_DEVICE_STATUS, 0);
	/* 4.1.4.3.2: the reset is complete when status reads back 0. */
	drv_wait(mmio_read8(vd->common + CC_DEVICE_STATUS) == 0, 1000000);
}

int virtio_init(struct virtio_dev *vd, struct pci_dev *d, u64 wanted)
{
	u32 len;

	memset(vd, 0, sizeof(*vd));
	vd->pci = d;
	for (u8 cap = pci_cap_find(d, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_cap_find(d, PCI_CAP_ID_VNDR, cap)) {
		u8 type = pci_cfg_read(d, cap + 3, 1);
		volatile u8 *p;
		/* The first capability of each type is the preferred one. */
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!vd->common && (p = cap_region(d, cap, &len)) && len >= 0x38)
				vd->common = p;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (!vd->notify_base && (p = cap_region(d, cap, &len))) {
				vd->notify_base = p;
				vd->notify_mult = pci_cfg_read(d, cap + 16, 4);
			}
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!vd->isr && (p = cap_region(d, cap, &len)))
				vd->isr = p;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!vd->device && (p = cap_region(d, cap, &len)))
				vd->device = p;
			break;
		}
	}
	if (!vd->common || !vd->notify_base || !vd->isr) {
		snprintf(d->note, sizeof(d->note), "no modern virtio interface");
		return -ENODEV;
	}
	pci_enable(d, true, false, true);

	/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
	virtio_reset(vd);
	set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(vd, VIRTIO_STATUS_DRIVER);
	mmio_write32(vd->common + CC_DEVICE_FEATURE_SELECT, 0);
	u64 offered = mmio_read32(vd->common + CC_DEVICE_FEATURE);
	mmio_write32(vd->common + CC_DEVICE_FEATURE_SELECT, 1);
	offered |= (u64)mmio_read32(vd->common + CC_DEVICE_FEATURE) << 32;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
		snprintf(d->note, sizeof(d->note), "device lacks VIRTIO_F_VERSION_1");
		set_status(vd, VIRTIO_STATUS_FAILED);
		return -ENODEV;
	}
	vd->features = offered & (wanted | (1ULL << VIRTIO_F_VERSION_1));
	mmio_write32(vd->common + CC_DRIVER_FEATURE_SELECT, 0);
	mmio_write32(vd->common + CC_DRIVER_FEATURE, (u32)vd->features);
	mmio_write32(vd->common + CC_DRIVER_FEATURE_SELECT, 1);
	mmio_write32(vd->common + CC_DRIVER_FEATURE, (u32)(vd->features >> 32));
	set_status(vd, VIRTIO_STATUS_FEATURES_OK);
	if (!(mmio_read8(vd->common + CC_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		snprintf(d->note, sizeof(d->note), "device refused features 0x%lx", vd->features);
		set_status(vd, VIRTIO_STATUS_FAILED);
		return -EIO;
	}
	/* No MSI-X (yet): the configuration-change vector is "none". */
	mmio_write16(vd->common + CC_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
	return 0;
}

int virtio_use_msix(struct virtio_dev *vd, bool on)
{
	vd->msix = false;
	if (!on)
		return 0;
	/* 4.1.4.3 / 4.1.5.1.2: write the vector, read it back. */
	mmio_write16(vd->common + CC_MSIX_CONFIG, 0);
	if (mmio_read16(vd->common + CC_MSIX_CONFIG) != 0) {
		mmio_write16(vd->common + CC_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
		drv_log("virtio %02x:%02x.%u: MSI-X config vector 0 refused\n",
			PCI_BUS(vd->pci->bdf), PCI_DEV(vd->pci->bdf), PCI_FN(vd->pci->bdf));
		return -EIO;
	}
	vd->msix = true;
	return 0;
}

int virtio_queue_init(struct virtio_dev *vd, struct virtq *q, u16 index, u16 max_size)
{
	volatile u8 *c = vd->common;
	u16 size;

	memset(q, 0, sizeof(*q));
	mmio_write16(c + CC_QUEUE_SELECT, index);
	size = mmio_read16(c + CC_QUEUE_SIZE);
	if (!size)
		return -ENODEV;
	/* Queue sizes are powers of two (2.6); the device accepts smaller. */
	while (size > max_size)
		size >>= 1;
	mmio_write16(c + CC_QUEUE_SIZE, size);

	/* Descriptors (16 bytes each), then the available ring, then on a
	 * page of its own the used ring (alignments 16, 2, 4: 2.6). */
	size_t avail_off = 16u * size;
	size_t used_off = ALIGN_UP(avail_off + 6 + 2u * size, PAGE_SIZE);
	size_t total = used_off + ALIGN_UP(6 + 8u * size, PAGE_SIZE);
	u8 *mem = dma_alloc(total, PAGE_SIZE);
	void **cookies = dma_alloc(sizeof(void *) * size, 0);
	if (!mem || !cookies) {
		dma_free(mem, total);
		dma_free(cookies, sizeof(void *) * size);
		return -ENOMEM;
	}
	q->index = index;
	q->size = size;
	q->mem = mem;
	q->mem_size = total;
	q->desc = (volatile struct virtq_desc *)mem;
	q->avail = (volatile u16 *)(mem + avail_off);
	q->used_hdr = (volatile u16 *)(mem + used_off);
	q->used = (volatile struct virtq_used_elem *)(mem + used_off + 4);
	q->cookies = cookies;
	for (u16 i = 0; i < size; i++)
		q->desc[i].next = i + 1;
	q->free_head = 0;
	q->nr_free = size;

	if (vd->msix) {
		mmio_write16(c + CC_QUEUE_MSIX_VECTOR, 0);
		if (mmio_read16(c + CC_QUEUE_MSIX_VECTOR) != 0) {
			/* No vector: this queue's completions are found by
			 * the drivers' sliced waits. */
			drv_log("virtio %02x:%02x.%u: MSI-X vector 0 refused for queue %u\n",
				PCI_BUS(vd->pci->bdf), PCI_DEV(vd->pci->bdf), PCI_FN(vd->pci->bdf),
				index);
			mmio_write16(c + CC_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
		}
	} else {
		mmio_write16(c + CC_QUEUE_MSIX_VECTOR, VIRTIO_MSI_NO_VECTOR);
	}
	mmio_write64(c + CC_QUEUE_DESC, dma_addr(mem));
	mmio_write64(c + CC_QUEUE_DRIVER, dma_addr(mem + avail_off));
	mmio_write64(c + CC_QUEUE_DEVICE, dma_addr(mem + used_off));
	u16 noff = mmio_read16(c + CC_QUEUE_NOTIFY_OFF);
	q->notify = vd->notify_base + (u64)noff * vd->notify_mult;
	mmio_write16(c + CC_QUEUE_ENABLE, 1);
	return 0;
}

void virtio_ready(struct virtio_dev *vd)
{
	set_status(vd, VIRTIO_STATUS_DRIVER_OK);
}

/* Configuration reads are retried while config_generation changes
 * (4.1.4.3.1), so a multi-byte field is never torn. */
#define CFG_READ(vd, expr)                                                        \
	({                                                                        \
		u8 gen_;                                                          \
		__typeof__(expr) v_;                                              \
		do {                                                              \
			gen_ = mmio_read8((vd)->common + CC_CONFIG_GENERATION);   \
			v_ = (expr);                                              \
		} while (gen_ != mmio_read8((vd)->common + CC_CONFIG_GENERATION)); \
		v_;                                                               \
	})

u8 virtio_cfg8(struct virtio_dev *vd, unsigned off)
{
	return vd->device ? mmio_read8(vd->device + off) : 0;
}

u16 virtio_cfg16(struct virtio_dev *vd, unsigned off)
{
	return vd->device ? CFG_READ(vd, mmio_read16(vd->device + off)) : 0;
}

u32 virtio_cfg32(struct virtio_dev *vd, unsigned off)
{
	return vd->device ? CFG_READ(vd, mmio_read32(vd->device + off)) : 0;
}

u64 virtio_cfg64(struct virtio_dev *vd, unsigned off)
{
	return vd->device ? CFG_READ(vd, mmio_read64(vd->device + off)) : 0;
}

/* ---- split virtqueue ------------------------------------------------ */

int virtq_add(struct virtq *q, const struct vq_buf *bufs, unsigned n, void *cookie)
{
	u16 head, i, prev = 0;

	if (!n || n > q->nr_free)
		return -EBUSY;
	head = i = q->free_head;
	for (unsigned k = 0; k < n; k++) {
		volatile struct virtq_desc *d = &q->desc[i];
		d->addr = dma_addr(bufs[k].addr);
		d->len = bufs[k].len;
		d->flags = (bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		prev = i;
		i = d->next;
	}
	/* The last descriptor's `next` still links into the free list. */
	q->free_head = q->desc[prev].next;
	q->nr_free -= n;
	q->cookies[head] = cookie;
	/* avail: flags (0), idx (1), ring[] (2...) */
	q->avail[2 + (q->avail_idx & (q->size - 1))] = head;
	q->avail_idx++;
	return 0;
}

void virtq_kick(struct virtio_dev *vd, struct virtq *q)
{
	(void)vd;
	wmb(); /* ring entries before the index (2.6.13) */
	q->avail[1] = q->avail_idx;
	mb();  /* the index before the notification */
	mmio_write16(q->notify, q->index);
}

void *virtq_get(struct virtq *q, u32 *len)
{
	if (q->last_used == q->used_hdr[1])
		return NULL;
	rmb(); /* the index before the element */
	volatile struct virtq_used_elem *e = &q->used[q->last_used & (q->size - 1)];
	u16 head = e->id, i = head, n = 1;
	if (head >= q->size)
		return NULL; /* a device bug; nothing sane to do with it */
	if (len)
		*len = e->len;
	q->last_used++;
	void *cookie = q->cookies[head];
	/* Return the chain to the free list. */
	while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nr_free += n;
	return cookie;
}
