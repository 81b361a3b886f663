// COpenSSL: system OpenSSL 3 (libssl + libcrypto), for DTLS-SRTP and key/cert handling.
// Many SSL_* / BIO_* "functions" are macros over SSL_CTX_ctrl / SSL_ctrl / BIO_ctrl, and
// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen: Swift can call none of them,
// so each one DTLS needs gets a typed wrapper here. (swift-nio-ssl's BoringSSL copy has
// prefixed symbols, so both link into one binary.)
#ifndef VP_COPENSSL_SHIM_H
#define VP_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/hmac.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/params.h>

// SSL_CTX_set_mode(ctx, op) -> SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, op, NULL); returns the new mode.
static inline long vp_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
// SSL_CTX_set_read_ahead(ctx, m): DTLS over a memory BIO wants whole datagrams per read.
static inline long vp_SSL_CTX_set_read_ahead(SSL_CTX *ctx, long yes) {
    return SSL_CTX_set_read_ahead(ctx, yes);
}
// SSL_set_mtu(ssl, mtu): DTLS record MTU (needs SSL_OP_NO_QUERY_MTU, which is a plain option).
static inline long vp_SSL_set_mtu(SSL *ssl, long mtu) {
    return SSL_set_mtu(ssl, mtu);
}
// DTLS_set_link_mtu(ssl, mtu): link MTU including UDP/IP overhead.
static inline long vp_DTLS_set_link_mtu(SSL *ssl, long mtu) {
    return DTLS_set_link_mtu(ssl, mtu);
}
// DTLSv1_get_timeout(ssl, &tv): 1 and the time left until retransmit, or 0 if no timer runs.
static inline long vp_DTLSv1_get_timeout(SSL *ssl, struct timeval *out) {
    return DTLSv1_get_timeout(ssl, out);
}
// DTLSv1_handle_timeout(ssl): retransmit the last flight if its timer expired.
static inline long vp_DTLSv1_handle_timeout(SSL *ssl) {
    return DTLSv1_handle_timeout(ssl);
}
// BIO_get_mem_data(bio, &ptr): pointer to and length of the data pending in a memory BIO.
static inline long vp_BIO_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}
// BIO_set_mem_eof_return(bio, v): what a read of an empty memory BIO returns; -1 makes it
// "retry" (SSL_ERROR_WANT_READ) instead of EOF, which a datagram pump needs.
static inline long vp_BIO_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}
// BIO_ctrl_pending is a real function (imports directly); BIO_pending(b) is its macro twin.
static inline size_t vp_BIO_ctrl_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}
// EVP_EC_gen(curve) -> variadic EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve); e.g. "P-256".
static inline EVP_PKEY *vp_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}
// OPENSSL_VERSION_TEXT is the header's version; this is the linked library's.
static inline const char *vp_openssl_version_text(void) {
    return OpenSSL_version(OPENSSL_VERSION);
}

// --- DTLS-SRTP endpoint (Sources/Peer/DTLS) ---
// SSL_CTX_set_min/max_proto_version are SSL_CTX_ctrl macros: pin DTLS 1.2.
static inline long vp_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, long version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long vp_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, long version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
// SSL_OP_NO_QUERY_MTU is SSL_OP_BIT(12), a cast expression Swift cannot import.
static inline uint64_t vp_SSL_OP_NO_QUERY_MTU(void) {
    return SSL_OP_NO_QUERY_MTU;
}
// SSL_OP_NO_TICKET likewise (DTLS-SRTP has no use for session tickets).
static inline uint64_t vp_SSL_OP_NO_TICKET(void) {
    return SSL_OP_NO_TICKET;
}
// BIO_reset(b) -> BIO_ctrl(b, BIO_CTRL_RESET, 0, NULL): empties a memory BIO after draining it.
static inline long vp_BIO_reset(BIO *bio) {
    return BIO_reset(bio);
}
// MBSTRING_ASC is (MBSTRING_FLAG|1); kept as a function so its value never depends on macro import.
static inline int vp_MBSTRING_ASC(void) {
    return MBSTRING_ASC;
}
// SSL_set_app_data / SSL_get_app_data are macros over SSL_set_ex_data(s, 0, p).
static inline int vp_SSL_set_app_data(SSL *ssl, void *data) {
    return SSL_set_app_data(ssl, data);
}
static inline void *vp_SSL_get_app_data(const SSL *ssl) {
    return SSL_get_app_data(ssl);
}

#endif
