// CYUV: libyuv (colour conversion and scaling: I420/NV12/YUY2/MJPG <-> ARGB, ARGBScale).
// Debian ships no pkg-config file: the module map links "yuv" itself. In C mode the
// headers declare plain extern "C"-style functions, which import directly.
#ifndef VP_CYUV_SHIM_H
#define VP_CYUV_SHIM_H

#include <libyuv.h>

#endif
