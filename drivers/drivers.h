/*
 * dom0's device drivers, for the image that links them to list in its
 * binding table (pci_bind). Each is in its own file under drivers/.
 */
#ifndef DRIVERS_DRIVERS_H
#define DRIVERS_DRIVERS_H

#include "pci/pci.h"

extern const struct pci_driver virtio_blk_driver; /* block/virtio_blk.c */
extern const struct pci_driver nvme_driver;       /* block/nvme.c */
extern const struct pci_driver ahci_driver;       /* block/ahci.c */
extern const struct pci_driver virtio_net_driver; /* net/virtio_net.c */
extern const struct pci_driver e1000_driver;      /* net/e1000.c */

#endif
