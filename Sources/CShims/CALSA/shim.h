// CALSA: ALSA userspace (libasound). The API imports directly; the only macros Swift
// cannot use are the snd_*_alloca helpers, and Swift code uses the snd_*_malloc /
// snd_*_free pairs instead, so no wrappers are needed here.
#ifndef VP_CALSA_SHIM_H
#define VP_CALSA_SHIM_H

#include <alsa/asoundlib.h>

#endif
