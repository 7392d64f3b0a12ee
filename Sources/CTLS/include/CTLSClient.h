#ifndef CTLS_CLIENT_H
#define CTLS_CLIENT_H

/* Client-mode TLS (appserver connecting out, as to a DNS-over-TLS upstream): what Swift
   cannot call (macros), and the new-session callback, which runs inside SSL_read. */

#include <openssl/ssl.h>

/// A client context: TLS 1.2 at least, the peer's chain verified against `ca_file` (NULL:
/// the system's store), `alpn` offered (wire format, may be empty), partial writes that may
/// be retried from a moved buffer, sessions handed to each connection's slot. Returns NULL
/// when OpenSSL refused a setting or the CA file did not load.
SSL_CTX *ctls_client_context(const char *ca_file, const unsigned char *alpn, unsigned alpn_length);

/// Where one peer's newest session is kept (shared by the connections to that peer, on any
/// thread), so that the next connection resumes it.
typedef struct ctls_session_slot ctls_session_slot;
ctls_session_slot *ctls_session_slot_new(void);
void ctls_session_slot_free(ctls_session_slot *slot);

/// A client SSL on the connected, non-blocking `fd`: the peer's certificate must carry
/// `name` (a host name, also sent as SNI; or an IP address), the slot's session offered
/// for resumption and the peer's new sessions kept there. NULL on failure.
SSL *ctls_client_ssl(SSL_CTX *ctx, int fd, const char *name, ctls_session_slot *slot);

#endif
