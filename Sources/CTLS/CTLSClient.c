#include "CTLSClient.h"

#include <pthread.h>
#include <stdlib.h>
#include <openssl/x509v3.h>

struct ctls_session_slot {
    pthread_mutex_t lock;
    SSL_SESSION *session;
};

/* The index of the slot pointer in each client SSL's ex data. */
static int slot_index = -1;
static pthread_once_t slot_index_once = PTHREAD_ONCE_INIT;
static void make_slot_index(void) { slot_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

static int keep_session(SSL *ssl, SSL_SESSION *session) {
    ctls_session_slot *slot = SSL_get_ex_data(ssl, slot_index);
    if (!slot) return 0;
    pthread_mutex_lock(&slot->lock);
    SSL_SESSION *old = slot->session;
    slot->session = session;
    pthread_mutex_unlock(&slot->lock);
    SSL_SESSION_free(old);
    /* The slot now owns the reference OpenSSL handed over. */
    return 1;
}

SSL_CTX *ctls_client_context(const char *ca_file, const unsigned char *alpn, unsigned alpn_length) {
    pthread_once(&slot_index_once, make_slot_index);
    if (slot_index < 0) return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ok) ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    /* SSL_CTX_set_alpn_protos returns 0 on success. */
    if (ok && alpn_length > 0) ok = SSL_CTX_set_alpn_protos(ctx, alpn, alpn_length) == 0;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, keep_session);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

ctls_session_slot *ctls_session_slot_new(void) {
    ctls_session_slot *slot = calloc(1, sizeof *slot);
    if (slot) pthread_mutex_init(&slot->lock, NULL);
    return slot;
}

void ctls_session_slot_free(ctls_session_slot *slot) {
    if (!slot) return;
    SSL_SESSION_free(slot->session);
    pthread_mutex_destroy(&slot->lock);
    free(slot);
}

SSL *ctls_client_ssl(SSL_CTX *ctx, int fd, const char *name, ctls_session_slot *slot) {
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    int ok = SSL_set_fd(ssl, fd) == 1 && SSL_set_ex_data(ssl, slot_index, slot) == 1;
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    if (ip) {
        ASN1_OCTET_STRING_free(ip);
        /* An address is checked against the certificate's IP entries, and is not SNI (RFC 6066 3). */
        if (ok) ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
    } else {
        if (ok) ok = SSL_set1_host(ssl, name) == 1 && SSL_set_tlsext_host_name(ssl, name) == 1;
    }
    if (ok && slot) {
        pthread_mutex_lock(&slot->lock);
        if (slot->session) ok = SSL_set_session(ssl, slot->session) == 1;
        pthread_mutex_unlock(&slot->lock);
    }
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}
