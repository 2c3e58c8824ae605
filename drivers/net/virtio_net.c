/*
 * virtio-net over modern virtio-pci (OASIS Virtio 1.1, 5.1): receive
 * queue 0, transmit queue 1, no offloads and no mergeable receive buffers,
 * so every frame comes with the 12-byte virtio_net_hdr (5.1.6, the
 * VERSION_1 layout with num_buffers) in one buffer of RX_BUF_SIZE bytes.
 */
#include "drivers.h"
#include "net/netdev.h"
#include "virtio/virtio.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define CFG_MAC 0
#define CFG_STATUS 6

#define VNET_HDR_LEN 12
#define RX_BUF_SIZE 2048
#define QUEUE_MAX 256

struct vnet {
	struct virtio_dev vd;
	struct virtq rxq, txq;
	struct netdev nd;
	u8 *rx_bufs;        /* rxq.size buffers of RX_BUF_SIZE */
	u8 *tx_bufs;        /* txq.size buffers of RX_BUF_SIZE */
	u16 tx_next;        /* next TX buffer to use (round robin) */
	u16 tx_busy;        /* TX buffers the device still holds */
};

static void rx_post(struct vnet *v, u16 i)
{
	struct vq_buf b = { v->rx_bufs + (size_t)i * RX_BUF_SIZE, RX_BUF_SIZE, true };
	virtq_add(&v->rxq, &b, 1, (void *)(uintptr_t)(i + 1));
}

static int vnet_xmit(struct netdev *nd, const void *frame, size_t len)
{
	struct vnet *v = nd->priv;

	/* Transmissions are reaped here, when the ring is full, and by
	 * poll: the device is asked for no interrupt on them (probe). */
	if (v->tx_busy == v->txq.size)
		while (virtq_get(&v->txq, NULL))
			v->tx_busy--;
	if (v->tx_busy == v->txq.size)
		return -EBUSY;
	/* Buffers are used in order and the device completes them in order
	 * for a single queue without offloads, so a ring index suffices. */
	u16 i = v->tx_next;
	u8 *buf = v->tx_bufs + (size_t)i * RX_BUF_SIZE;
	memset(buf, 0, VNET_HDR_LEN); /* no checksum or segmentation offload */
	memcpy(buf + VNET_HDR_LEN, frame, len);
	struct vq_buf b = { buf, (u32)(VNET_HDR_LEN + len), false };
	if (virtq_add(&v->txq, &b, 1, (void *)(uintptr_t)(i + 1)))
		return -EBUSY;
	v->tx_next = (i + 1) % v->txq.size;
	v->tx_busy++;
	virtq_kick(&v->vd, &v->txq);
	return 0;
}

static unsigned vnet_poll(struct netdev *nd)
{
	struct vnet *v = nd->priv;
	unsigned got = 0, reposted = 0;
	void *cookie;
	u32 len;

	if (nd->irq && !v->vd.msix)
		mmio_read8(v->vd.isr); /* acknowledges INTx (4.1.4.5); unused with MSI-X */
	while (virtq_get(&v->txq, NULL))
		v->tx_busy--;
	while ((cookie = virtq_get(&v->rxq, &len))) {
		u16 i = (u16)((uintptr_t)cookie - 1);
		u8 *buf = v->rx_bufs + (size_t)i * RX_BUF_SIZE;
		if (len > VNET_HDR_LEN + NETDEV_MIN_FRAME - 1 && len <= RX_BUF_SIZE) {
			netdev_deliver(nd, buf + VNET_HDR_LEN, len - VNET_HDR_LEN);
			got++;
		} else {
			nd->rx_errors++;
		}
		rx_post(v, i);
		reposted++;
	}
	if (reposted)
		virtq_kick(&v->vd, &v->rxq);
	if (v->vd.features & (1ULL << VIRTIO_NET_F_STATUS))
		nd->link_up = virtio_cfg16(&v->vd, CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
	return got;
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.poll = vnet_poll,
};

static bool vnet_match(const struct pci_dev *d)
{
	/* 0x1041 modern, 0x1000 transitional (4.1.2.1). */
	return d->vendor == VIRTIO_PCI_VENDOR && (d->device == 0x1041 || d->device == 0x1000);
}

static int vnet_probe(struct pci_dev *d)
{
	struct vnet *v = dma_alloc(sizeof(*v), 0);
	int rc;

	if (!v)
		return -ENOMEM;
	rc = virtio_init(&v->vd, d, (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS));
	if (rc)
		goto fail;
	/* The interrupt first: with MSI-X the queues' vectors are part of
	 * their setup (4.1.5.1.2). */
	struct drv_irq *irq = drv_irq_attach(d);
	virtio_use_msix(&v->vd, drv_irq_is_msix(irq));
	if ((rc = virtio_queue_init(&v->vd, &v->rxq, 0, QUEUE_MAX)) ||
	    (rc = virtio_queue_init(&v->vd, &v->txq, 1, QUEUE_MAX))) {
		snprintf(d->note, sizeof(d->note), "queue setup failed (%d)", rc);
		goto fail_reset;
	}
	v->rx_bufs = dma_alloc((size_t)v->rxq.size * RX_BUF_SIZE, 0);
	v->tx_bufs = dma_alloc((size_t)v->txq.size * RX_BUF_SIZE, 0);
	if (!v->rx_bufs || !v->tx_bufs) {
		rc = -ENOMEM;
		snprintf(d->note, sizeof(d->note), "out of DMA memory");
		goto fail_reset;
	}
	for (u16 i = 0; i < v->rxq.size; i++)
		rx_post(v, i);
	/* No interrupt per finished transmission: xmit and poll reap them.
	 * Under a stream each one woke dom0 (a VM exit and an event-loop
	 * pass per few frames: docs/PERFORMANCE.md, "PV net"). */
	v->txq.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtio_ready(&v->vd);
	virtq_kick(&v->vd, &v->rxq);

	struct netdev *nd = &v->nd;
	if (v->vd.features & (1ULL << VIRTIO_NET_F_MAC)) {
		for (unsigned i = 0; i < 6; i++)
			nd->mac[i] = virtio_cfg8(&v->vd, CFG_MAC + i);
	} else {
		/* No MAC from the device: a locally administered one. */
		static const u8 local[6] = { 0x02, 0x4b, 0x45, 0x45, 0x4c, 0x00 };
		memcpy(nd->mac, local, 6);
		nd->mac[5] = (u8)d->bdf;
	}
	nd->link_up = true;
	nd->driver = "virtio-net";
	nd->ops = &vnet_ops;
	nd->irq = irq;
	nd->priv = v;
	nd->pci = d;
	d->priv = v;
	if (netdev_register(nd))
		drv_log("virtio-net: too many NICs, not registered\n");
	snprintf(d->note, sizeof(d->note), "%s", nd->name);
	vnet_poll(nd);
	return 0;

fail_reset:
	virtio_reset(&v->vd);
fail:
	if (!d->note[0])
		snprintf(d->note, sizeof(d->note), "initialization failed (%d)", rc);
	dma_free(v->rx_bufs, (size_t)v->rxq.size * RX_BUF_SIZE);
	dma_free(v->tx_bufs, (size_t)v->txq.size * RX_BUF_SIZE);
	dma_free(v, sizeof(*v));
	return rc;
}

const struct pci_driver virtio_net_driver = {
	.name = "virtio-net",
	.match = vnet_match,
	.probe = vnet_probe,
};
