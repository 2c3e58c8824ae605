/*
 * keel.cfg: read from the boot source (the root of the boot volume, or the
 * boot file's directory on the TFTP server; source.c) and parsed by the
 * freestanding parser shared with the unit tests (boot/common/cfg.c).
 */
#include "loader.h"

#define CFG_FILE "/keel.cfg"

EFI_STATUS config_load(struct boot_source *src, struct keel_cfg *cfg)
{
	char err[CFG_ERR_MAX];
	EFI_PHYSICAL_ADDRESS text;
	UINT64 len;
	EFI_STATUS st;
	int rc;

	st = source_load(src, CFG_FILE, "keel.cfg", &text, &len);
	if (EFI_ERROR(st))
		return st;
	rc = cfg_parse((const char *)(UINTN)text, len, cfg, err, sizeof(err));
	pages_free(text);
	if (rc) {
		LOG(L"%a", err);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}
