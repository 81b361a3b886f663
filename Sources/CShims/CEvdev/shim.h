// CEvdev: libevdev (buttons/keys of the appliance) and uinput (virtual devices in tests).
// The API imports directly; KEY_* / EV_* in <linux/input.h> are plain integer macros.
#ifndef VP_CEVDEV_SHIM_H
#define VP_CEVDEV_SHIM_H

#include <linux/input.h>
#include <libevdev/libevdev.h>
#include <libevdev/libevdev-uinput.h>

#endif
