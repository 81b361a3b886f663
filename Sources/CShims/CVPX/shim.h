// CVPX: libvpx VP8 encoder/decoder.
// vpx_codec_enc_init / vpx_codec_dec_init are macros that pass the header's ABI version,
// and vpx_codec_control is a macro over the variadic vpx_codec_control_: Swift can call
// neither, so they are wrapped here with fixed argument types.
#ifndef VP_CVPX_SHIM_H
#define VP_CVPX_SHIM_H

#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

// vpx_codec_enc_init(...) -> vpx_codec_enc_init_ver(..., VPX_ENCODER_ABI_VERSION).
static inline vpx_codec_err_t vp_vpx_codec_enc_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface,
                                                    const vpx_codec_enc_cfg_t *cfg, vpx_codec_flags_t flags) {
    return vpx_codec_enc_init(ctx, iface, cfg, flags);
}

// vpx_codec_dec_init(...) -> vpx_codec_dec_init_ver(..., VPX_DECODER_ABI_VERSION).
static inline vpx_codec_err_t vp_vpx_codec_dec_init(vpx_codec_ctx_t *ctx, vpx_codec_iface_t *iface,
                                                    const vpx_codec_dec_cfg_t *cfg, vpx_codec_flags_t flags) {
    return vpx_codec_dec_init(ctx, iface, cfg, flags);
}

// vpx_codec_control_(ctx, id, ...) is variadic. Most VP8E_SET_* controls take an int
// (e.g. VP8E_SET_CPUUSED, VP8E_SET_NOISE_SENSITIVITY), some an unsigned int
// (VP8E_SET_STATIC_THRESHOLD, VP8E_SET_MAX_INTRA_BITRATE_PCT), and getters an int pointer.
static inline vpx_codec_err_t vp_vpx_control_int(vpx_codec_ctx_t *ctx, int id, int value) {
    return vpx_codec_control_(ctx, id, value);
}
static inline vpx_codec_err_t vp_vpx_control_uint(vpx_codec_ctx_t *ctx, int id, unsigned int value) {
    return vpx_codec_control_(ctx, id, value);
}
static inline vpx_codec_err_t vp_vpx_control_int_ptr(vpx_codec_ctx_t *ctx, int id, int *out) {
    return vpx_codec_control_(ctx, id, out);
}

// VP8E_SET_SCALEMODE takes a pointer to a struct of two enums.
static inline vpx_codec_err_t vp_vpx_set_scale_mode(vpx_codec_ctx_t *ctx, int horizontal, int vertical) {
    vpx_scaling_mode_t mode = {(VPX_SCALING_MODE)horizontal, (VPX_SCALING_MODE)vertical};
    return vpx_codec_control_(ctx, VP8E_SET_SCALEMODE, &mode);
}

// The VP8 interfaces (these functions import directly too; wrapped so callers need only CVPX's names).
static inline vpx_codec_iface_t *vp_vpx_vp8_cx(void) { return vpx_codec_vp8_cx(); }
static inline vpx_codec_iface_t *vp_vpx_vp8_dx(void) { return vpx_codec_vp8_dx(); }

#endif
