#include "CTLS.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

int ctls_configure(SSL_CTX *ctx, int kernel_tls) {
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) return 0;
    uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE
        /* A peer that closes without close_notify has ended the stream, as nginx takes it. */
        | SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (kernel_tls) options |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_set_options(ctx, options);
    /* TLS 1.2: Mozilla's "intermediate" AEAD suites with forward secrecy (no DH parameters
       are set, so no DHE). OpenSSL's default list adds CBC suites, which testssl reports as
       LUCKY13-prone. TLS 1.3 keeps OpenSSL's default suites. */
    if (!SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")) return 0;
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* As nginx: a record in one read(2), not its 5-byte header and then the rest. */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, 20480);
    static const unsigned char id[] = "appserver";
    return SSL_CTX_set_session_id_context(ctx, id, sizeof id - 1);
}

int ctls_set_ticket_keys(SSL_CTX *ctx, const unsigned char *keys, size_t length) {
    return SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)keys, (long)length) == 1;
}

int ctls_use_pem(SSL_CTX *ctx, const char *cert, size_t cert_length, const char *key, size_t key_length) {
    int result = 0;
    BIO *bio = BIO_new_mem_buf(cert, (int)cert_length);
    X509 *leaf = bio ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : NULL;
    if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
        result = 1;
    } else {
        SSL_CTX_clear_chain_certs(ctx);
        X509 *next;
        while ((next = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (!SSL_CTX_add0_chain_cert(ctx, next)) { X509_free(next); result = 2; break; }
        }
        /* The loop ends on "no start line" at the end of the file; anything else is a bad chain. */
        unsigned long error = ERR_peek_last_error();
        if (result == 0 && error != 0 && ERR_GET_REASON(error) != PEM_R_NO_START_LINE) result = 2;
    }
    X509_free(leaf);
    BIO_free(bio);
    ERR_clear_error();
    if (result) return result;
    bio = BIO_new_mem_buf(key, (int)key_length);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    if (!pkey || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) result = pkey ? 4 : 3;
    else if (SSL_CTX_check_private_key(ctx) != 1) result = 4;
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ERR_clear_error();
    return result;
}

typedef struct { unsigned length; unsigned char protocols[]; } alpn_list;

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *out_length,
                       const unsigned char *offered, unsigned offered_length, void *arg) {
    (void)ssl;
    const alpn_list *list = arg;
    unsigned char *chosen = NULL;
    if (SSL_select_next_proto(&chosen, out_length, list->protocols, list->length, offered, offered_length)
        != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

void *ctls_set_alpn(SSL_CTX *ctx, const unsigned char *protocols, unsigned length) {
    alpn_list *list = malloc(sizeof(alpn_list) + length);
    if (!list) return NULL;
    list->length = length;
    memcpy(list->protocols, protocols, length);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, list);
    return list;
}

typedef struct { int count; SSL_CTX *contexts[]; } sni_list;

static int select_certificate(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    const sni_list *list = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    for (int i = 0; i < list->count; i++) {
        X509 *certificate = SSL_CTX_get0_certificate(list->contexts[i]);
        if (certificate && X509_check_host(certificate, name, 0, 0, NULL) == 1) {
            if (list->contexts[i] != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, list->contexts[i]);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK;
}

void *ctls_set_sni(SSL_CTX *ctx, SSL_CTX *const *contexts, int count) {
    sni_list *list = malloc(sizeof(sni_list) + sizeof(SSL_CTX *) * (size_t)count);
    if (!list) return NULL;
    list->count = count;
    memcpy(list->contexts, contexts, sizeof(SSL_CTX *) * (size_t)count);
    SSL_CTX_set_tlsext_servername_callback(ctx, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(ctx, list);
    return list;
}

int ctls_scope(SSL *ssl, const unsigned char *scope, unsigned length, int require_close_notify) {
    if (require_close_notify) SSL_clear_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return SSL_set_session_id_context(ssl, scope, length);
}

void ctls_free(void *pointer) { free(pointer); }

int ctls_kernel_send(SSL *ssl) { return BIO_get_ktls_send(SSL_get_wbio(ssl)) > 0; }

EVP_PKEY *ctls_generate_key(void) { return EVP_EC_gen("P-256"); }
