// COpus: libopus. opus_encoder_ctl / opus_decoder_ctl are variadic and the OPUS_SET_x(v)
// / OPUS_GET_x(&v) helpers are type-checking macros, so Swift gets fixed-type wrappers.
// The *_REQUEST numbers (OPUS_SET_BITRATE_REQUEST 4002, OPUS_SET_INBAND_FEC_REQUEST,
// OPUS_SET_PACKET_LOSS_PERC_REQUEST, OPUS_SET_COMPLEXITY_REQUEST, OPUS_SET_DTX_REQUEST,
// OPUS_RESET_STATE 4028, OPUS_AUTO, OPUS_BITRATE_MAX, ...) are plain integer macros and
// import directly; no constants needed here.
#ifndef VP_COPUS_SHIM_H
#define VP_COPUS_SHIM_H

#include <opus/opus.h>

// For every OPUS_SET_*_REQUEST that takes an opus_int32.
static inline int vp_opus_encoder_set_int(OpusEncoder *enc, int request, opus_int32 value) {
    return opus_encoder_ctl(enc, request, value);
}
// For every OPUS_GET_*_REQUEST that writes an opus_int32 (OPUS_GET_FINAL_RANGE writes an
// opus_uint32 of the same size: pass a pointer to it cast to opus_int32 *).
static inline int vp_opus_encoder_get_int(OpusEncoder *enc, int request, opus_int32 *out) {
    return opus_encoder_ctl(enc, request, out);
}
// OPUS_RESET_STATE takes no argument.
static inline int vp_opus_encoder_reset(OpusEncoder *enc) {
    return opus_encoder_ctl(enc, OPUS_RESET_STATE);
}

static inline int vp_opus_decoder_set_int(OpusDecoder *dec, int request, opus_int32 value) {
    return opus_decoder_ctl(dec, request, value);
}
static inline int vp_opus_decoder_get_int(OpusDecoder *dec, int request, opus_int32 *out) {
    return opus_decoder_ctl(dec, request, out);
}
static inline int vp_opus_decoder_reset(OpusDecoder *dec) {
    return opus_decoder_ctl(dec, OPUS_RESET_STATE);
}

#endif
