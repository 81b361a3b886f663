// CDRM: libdrm (KMS modesetting, dumb buffers, page flips). Most of xf86drm.h /
// xf86drmMode.h imports directly; what does not is built from function-like macros
// (fourcc_code(...), DRM_IOWR(...), fourcc_mod_code(...)), re-exported here as constants.
#ifndef VP_CDRM_SHIM_H
#define VP_CDRM_SHIM_H

#include <xf86drm.h>
#include <xf86drmMode.h>
#include <drm_fourcc.h>

// fourcc_code('X','R','2','4'): the scan-out format for a 32-bit dumb buffer.
static const uint32_t vp_DRM_FORMAT_XRGB8888 = DRM_FORMAT_XRGB8888;
// fourcc_mod_code(NONE, 0): plain linear layout (what dumb buffers use).
static const uint64_t vp_DRM_FORMAT_MOD_LINEAR = DRM_FORMAT_MOD_LINEAR;
// A plain literal (importable), repeated so all display flags come from one place.
static const uint32_t vp_DRM_MODE_PAGE_FLIP_EVENT = DRM_MODE_PAGE_FLIP_EVENT;

// DRM_IOWR(nr, struct ...) ioctl numbers for dumb buffers; use with drmIoctl(fd, req, &arg).
static const unsigned long vp_DRM_IOCTL_MODE_CREATE_DUMB = DRM_IOCTL_MODE_CREATE_DUMB;
static const unsigned long vp_DRM_IOCTL_MODE_MAP_DUMB = DRM_IOCTL_MODE_MAP_DUMB;
static const unsigned long vp_DRM_IOCTL_MODE_DESTROY_DUMB = DRM_IOCTL_MODE_DESTROY_DUMB;

#endif
