// CV4L2: Video4Linux2 (kernel UAPI) + libv4l2 (format conversion / emulation layer).
// Swift cannot import C variadic functions nor function-like macros, so this header
// wraps the variadic libv4l2 entry points and re-exports the ioctl numbers and pixel
// format fourccs (built by _IOWR(...) / v4l2_fourcc(...)) as constants.
#ifndef VP_CV4L2_SHIM_H
#define VP_CV4L2_SHIM_H

#include <linux/videodev2.h>
#include <libv4l2.h>

// v4l2_open(file, oflag, ...) is variadic (mode is only used with O_CREAT, never for devices).
static inline int vp_v4l2_open(const char *path, int flags) {
    return v4l2_open(path, flags);
}

// v4l2_ioctl(fd, request, ...) is variadic; every V4L2 ioctl takes exactly one pointer argument.
static inline int vp_v4l2_ioctl(int fd, unsigned long request, void *arg) {
    return v4l2_ioctl(fd, request, arg);
}

// VIDIOC_* are _IOR/_IOW/_IOWR(...) function-like macros: not importable.
static const unsigned long vp_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long vp_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long vp_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long vp_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long vp_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long vp_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long vp_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long vp_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long vp_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long vp_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long vp_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long vp_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long vp_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long vp_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;
// Controls (e.g. vivid's "Disconnect" button, which the hardware tests use to unplug a camera).
static const unsigned long vp_VIDIOC_S_CTRL = VIDIOC_S_CTRL;

// V4L2_PIX_FMT_* are v4l2_fourcc('Y','U','Y','V') function-like macros: not importable.
static const __u32 vp_V4L2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const __u32 vp_V4L2_PIX_FMT_NV12 = V4L2_PIX_FMT_NV12;
static const __u32 vp_V4L2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const __u32 vp_V4L2_PIX_FMT_YUV420 = V4L2_PIX_FMT_YUV420;

#endif
