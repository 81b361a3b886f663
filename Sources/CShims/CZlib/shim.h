// zlib: CRC-32 for STUN FINGERPRINT (RFC 8489 §14.7) and deflate/inflate (PNG, gzipped console fonts).
#include <zlib.h>
