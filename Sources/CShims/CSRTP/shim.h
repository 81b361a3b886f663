// CSRTP: libsrtp2 (SRTP/SRTCP protect/unprotect for the media path). The API is plain
// functions, structs and enums and imports directly: no wrappers needed.
#ifndef VP_CSRTP_SHIM_H
#define VP_CSRTP_SHIM_H

#include <srtp2/srtp.h>

#endif
