#ifndef CTLS_H
#define CTLS_H

/* What Swift cannot call in OpenSSL: function-like macros (SSL_CTX_set_min_proto_version,
   SSL_CTX_set_mode, SSL_CTX_set_tlsext_*, BIO_get_ktls_send ...), a variadic key generator,
   and the callbacks OpenSSL runs inside a handshake (kept in C: no Swift runtime there). */

#include <openssl/ssl.h>

/// TLS 1.2 at least (its AEAD suites only), no renegotiation (TLS 1.3 key updates still work), no compression,
/// a server session cache, partial writes that may be retried from a moved buffer, buffers
/// released while a connection is idle; with `kernel_tls`, SSL_OP_ENABLE_KTLS.
/// Returns 1, or 0 when OpenSSL refused a setting.
int ctls_configure(SSL_CTX *ctx, int kernel_tls);

/// The 80 bytes of ticket keys (name, HMAC and AES keys), so that contexts built later
/// (a reload) decrypt the tickets of earlier ones. Returns 1 or 0.
int ctls_set_ticket_keys(SSL_CTX *ctx, const unsigned char *keys, size_t length);

/// The certificate, then its chain, from `cert` (PEM), and the key from `key` (PEM).
/// Returns 0, or what failed: 1 no certificate, 2 a chain certificate, 3 no key, 4 the key
/// does not match the certificate.
int ctls_use_pem(SSL_CTX *ctx, const char *cert, size_t cert_length, const char *key, size_t key_length);

/// Strict ALPN: `protocols` (wire format: length-prefixed names) is the service's list; a
/// client offering only others is refused with no_application_protocol, one offering none
/// is accepted. Returns the copy the callback reads, to free with ctls_free once `ctx` is.
void *ctls_set_alpn(SSL_CTX *ctx, const unsigned char *protocols, unsigned length);

/// SNI: the context of the first of `contexts` whose certificate matches the name sent
/// (X509_check_host, wildcards included) serves the connection; none matching, `ctx`
/// (the default). Returns the copy the callback reads, to free with ctls_free.
void *ctls_set_sni(SSL_CTX *ctx, SSL_CTX *const *contexts, int count);

void ctls_free(void *pointer);

/// Whether OpenSSL sends this connection's records through kernel TLS.
int ctls_kernel_send(SSL *ssl);

/// A new EC P-256 key, or NULL.
EVP_PKEY *ctls_generate_key(void);

#endif
