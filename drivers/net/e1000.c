/*
 * Intel 8254x (the 82540EM QEMU emulates as "e1000"): PCI/PCI-X Family of
 * Gigabit Ethernet Controllers Software Developer's Manual (317453),
 * sections 13 (registers), 3.2-3.4 (legacy descriptors), 14 (init).
 * One receive and one transmit ring of legacy descriptors, 2 KiB receive
 * buffers, CRC stripped. Interrupts (receive, transmit done, link change)
 * are enabled when drv_irq_attach gives the NIC an interrupt (MSI or
 * INTx as a pirq event); without one they stay masked and the NIC is
 * polled. Either way the work is done in e1000_poll.
 */
#include "drivers.h"
#include "net/netdev.h"
#include "pci/pci.h"

#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_ICR 0x00c0
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MTA 0x5200
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define EERD_START 1u
#define EERD_DONE (1u << 4)
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)          /* unicast promiscuous */
#define RCTL_MPE (1u << 4)          /* multicast promiscuous */
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26)       /* BSIZE 00: 2048-byte buffers */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x10u << 4)
#define TCTL_COLD (0x40u << 12)     /* full duplex */
#define TIPG_DEFAULT 0x0060200au    /* IPGT 10, IPGR1 8, IPGR2 6 (13.4.34) */
#define RAH_AV (1u << 31)

/* Interrupt causes (13.4.17): TX descriptor written back, link status
 * change, RX descriptor minimum threshold, RX overrun, RX timer. */
#define ICR_TXDW (1u << 0)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)

#define RXD_STAT_DD 0x01
#define RXD_STAT_EOP 0x02
#define TXD_CMD_EOP 0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS 0x08
#define TXD_STAT_DD 0x01

#define RX_RING 256
#define TX_RING 256
#define BUF_SIZE 2048

struct e1000_rx_desc {
	u64 addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};

struct e1000_tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "TX descriptor is 16 bytes");

struct e1000 {
	volatile u8 *regs;
	struct netdev nd;
	volatile struct e1000_rx_desc *rx;
	volatile struct e1000_tx_desc *tx;
	u8 *rx_bufs, *tx_bufs;
	unsigned rx_next;      /* next descriptor the hardware will fill */
	unsigned tx_tail;      /* next descriptor to use */
	unsigned tx_clean;     /* oldest descriptor not yet reaped */
};

static u32 rd(struct e1000 *e, unsigned reg)
{
	return mmio_read32(e->regs + reg);
}

static void wr(struct e1000 *e, unsigned reg, u32 v)
{
	mmio_write32(e->regs + reg, v);
}

static int e1000_xmit(struct netdev *nd, const void *frame, size_t len)
{
	struct e1000 *e = nd->priv;
	unsigned i = e->tx_tail, next = (i + 1) % TX_RING;

	if (next == e->tx_clean)
		return -EBUSY; /* one slot stays empty: full != empty */
	u8 *buf = e->tx_bufs + (size_t)i * BUF_SIZE;
	memcpy(buf, frame, len);
	volatile struct e1000_tx_desc *d = &e->tx[i];
	d->addr = dma_addr(buf);
	d->length = (u16)len;
	d->cso = 0;
	d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	e->tx_tail = next;
	wmb();
	wr(e, E1000_TDT, next);
	return 0;
}

static unsigned e1000_poll(struct netdev *nd)
{
	struct e1000 *e = nd->priv;
	unsigned got = 0, last = RX_RING;

	if (nd->irq)
		rd(e, E1000_ICR); /* reading ICR clears the causes: INTx drops */
	while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & TXD_STAT_DD))
		e->tx_clean = (e->tx_clean + 1) % TX_RING;
	for (;;) {
		volatile struct e1000_rx_desc *d = &e->rx[e->rx_next];
		u8 st = d->status;
		if (!(st & RXD_STAT_DD))
			break;
		rmb(); /* the status before the length and data */
		u16 len = d->length;
		/* Frames never span buffers here (2 KiB, no long packets). */
		if ((st & RXD_STAT_EOP) && !d->errors && len >= NETDEV_MIN_FRAME && len <= BUF_SIZE) {
			netdev_deliver(nd, e->rx_bufs + (size_t)e->rx_next * BUF_SIZE, len);
			got++;
		} else {
			nd->rx_errors++;
		}
		d->status = 0;
		last = e->rx_next;
		e->rx_next = (e->rx_next + 1) % RX_RING;
	}
	if (last != RX_RING) {
		wmb();
		wr(e, E1000_RDT, last); /* hand the processed buffers back */
	}
	nd->link_up = rd(e, E1000_STATUS) & STATUS_LU;
	return got;
}

static const struct netdev_ops e1000_ops = {
	.xmit = e1000_xmit,
	.poll = e1000_poll,
};

/* EEPROM word through EERD (13.4.4, 82540EM layout: address in 15:8). */
static bool eeprom_read(struct e1000 *e, u8 addr, u16 *val)
{
	wr(e, E1000_EERD, EERD_START | (u32)addr << 8);
	if (!drv_wait(rd(e, E1000_EERD) & EERD_DONE, 10000))
		return false;
	*val = rd(e, E1000_EERD) >> 16;
	return true;
}

static bool e1000_match(const struct pci_dev *d)
{
	return d->vendor == 0x8086 && d->device == 0x100e; /* 82540EM */
}

static int e1000_probe(struct pci_dev *d)
{
	struct e1000 *e = dma_alloc(sizeof(*e), 0);
	struct netdev *nd;

	if (!e)
		return -ENOMEM;
	e->regs = pci_bar_map(d, 0);
	if (!e->regs) {
		snprintf(d->note, sizeof(d->note), "BAR0 is not memory");
		dma_free(e, sizeof(*e));
		return -ENODEV;
	}
	pci_enable(d, true, false, true);

	/* 14.5: mask interrupts, reset, mask again (reset re-enables). */
	wr(e, E1000_IMC, 0xffffffffu);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | CTRL_RST);
	drv_udelay(1000);
	if (!drv_wait(!(rd(e, E1000_CTRL) & CTRL_RST), 100000)) {
		snprintf(d->note, sizeof(d->note), "reset does not complete");
		dma_free(e, sizeof(*e));
		return -EIO;
	}
	wr(e, E1000_IMC, 0xffffffffu);
	rd(e, E1000_ICR);
	wr(e, E1000_CTRL, (rd(e, E1000_CTRL) | CTRL_SLU | CTRL_ASDE));

	nd = &e->nd;
	/* MAC: the EEPROM's words 0-2; RAL0/RAH0 when the EEPROM is silent. */
	u16 w[3];
	if (eeprom_read(e, 0, &w[0]) && eeprom_read(e, 1, &w[1]) && eeprom_read(e, 2, &w[2])) {
		for (unsigned i = 0; i < 3; i++) {
			nd->mac[2 * i] = w[i] & 0xff;
			nd->mac[2 * i + 1] = w[i] >> 8;
		}
	} else {
		u32 ral = rd(e, E1000_RAL0), rah = rd(e, E1000_RAH0);
		for (unsigned i = 0; i < 4; i++)
			nd->mac[i] = ral >> (8 * i);
		nd->mac[4] = rah;
		nd->mac[5] = rah >> 8;
	}
	wr(e, E1000_RAL0, nd->mac[0] | nd->mac[1] << 8 | nd->mac[2] << 16 | (u32)nd->mac[3] << 24);
	wr(e, E1000_RAH0, nd->mac[4] | nd->mac[5] << 8 | RAH_AV);
	for (unsigned i = 0; i < 128; i++)
		wr(e, E1000_MTA + 4 * i, 0);

	e->rx = dma_alloc(sizeof(struct e1000_rx_desc) * RX_RING, 0);
	e->tx = dma_alloc(sizeof(struct e1000_tx_desc) * TX_RING, 0);
	e->rx_bufs = dma_alloc((size_t)RX_RING * BUF_SIZE, 0);
	e->tx_bufs = dma_alloc((size_t)TX_RING * BUF_SIZE, 0);
	if (!e->rx || !e->tx || !e->rx_bufs || !e->tx_bufs) {
		snprintf(d->note, sizeof(d->note), "out of DMA memory");
		dma_free((void *)e->rx, sizeof(struct e1000_rx_desc) * RX_RING);
		dma_free((void *)e->tx, sizeof(struct e1000_tx_desc) * TX_RING);
		dma_free(e->rx_bufs, (size_t)RX_RING * BUF_SIZE);
		dma_free(e->tx_bufs, (size_t)TX_RING * BUF_SIZE);
		dma_free(e, sizeof(*e));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < RX_RING; i++)
		e->rx[i].addr = dma_addr(e->rx_bufs + (size_t)i * BUF_SIZE);

	/* 14.4 receive: ring, head 0, tail at the last descriptor (all but
	 * one buffer owned by the hardware), then enable. */
	u64 rx_pa = dma_addr((const void *)e->rx), tx_pa = dma_addr((const void *)e->tx);
	wr(e, E1000_RDBAL, (u32)rx_pa);
	wr(e, E1000_RDBAH, (u32)(rx_pa >> 32));
	wr(e, E1000_RDLEN, sizeof(struct e1000_rx_desc) * RX_RING);
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, RX_RING - 1);
	/* Promiscuous (8254x manual 13.4.22): the NIC is a port of dom0's
	 * bridge, which must see frames for every guest's MAC, not only its
	 * own (Linux sets a bridged port promiscuous likewise). */
	wr(e, E1000_RCTL, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_SECRC);
	/* 14.5 transmit. */
	wr(e, E1000_TDBAL, (u32)tx_pa);
	wr(e, E1000_TDBAH, (u32)(tx_pa >> 32));
	wr(e, E1000_TDLEN, sizeof(struct e1000_tx_desc) * TX_RING);
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	wr(e, E1000_TIPG, TIPG_DEFAULT);
	wr(e, E1000_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);

	nd->driver = "e1000";
	nd->ops = &e1000_ops;
	nd->irq = drv_irq_attach(d);
	if (nd->irq)
		wr(e, E1000_IMS, ICR_TXDW | ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0);
	nd->priv = e;
	nd->pci = d;
	d->priv = e;
	/* Auto-negotiation takes a moment after SLU (QEMU: about 0.5 s). */
	drv_wait(rd(e, E1000_STATUS) & STATUS_LU, 2000000);
	nd->link_up = rd(e, E1000_STATUS) & STATUS_LU;
	if (netdev_register(nd))
		drv_log("e1000: too many NICs, not registered\n");
	snprintf(d->note, sizeof(d->note), "%s", nd->name);
	return 0;
}

const struct pci_driver e1000_driver = {
	.name = "e1000",
	.match = e1000_match,
	.probe = e1000_probe,
};
