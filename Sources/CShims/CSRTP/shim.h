// CSRTP: libsrtp2 (SRTP/SRTCP protect/unprotect for the media path). The API is plain
// functions, structs and enums and imports directly: no wrappers needed.
#ifndef VP_CSRTP_SHIM_H
#define VP_CSRTP_SHIM_H

#include <srtp2/srtp.h>
// The cipher and auth type tables, to run SRTP's crypto on OpenSSL (Peer/SRTP/SRTPOpenSSLCrypto.swift).
#include <srtp2/cipher.h>
#include <srtp2/auth.h>

// SRTP_MAX_TRAILER_LEN (tag + MKI) is a macro of macros; srtp_protect_rtcp needs 4 bytes more
// (the E flag and SRTCP index). Callers reserve this much room after every packet they protect.
static inline int vp_srtp_max_trailer_len(void) {
    return SRTP_MAX_TRAILER_LEN + 4;
}

#endif
