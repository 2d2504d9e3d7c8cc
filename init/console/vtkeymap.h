/* Applies the keymap named on the command line (rd.vconsole.keymap=,
 * genkernel's keymap=) from KEYMAP_DIR to the kernel's keyboard tables,
 * before the first prompt. Never fatal: whatever goes wrong is said on the
 * console and in kmsg, and the kernel's layout stays. */
#ifndef LUKSINIT_VTKEYMAP_H
#define LUKSINIT_VTKEYMAP_H

#include "config/cmdline.h"
#include "console/keymap.h"

/* Fills *st for the prompt. */
void vtkeymap_setup(const struct boot_config *cfg, struct keymap_status *st);

#endif
