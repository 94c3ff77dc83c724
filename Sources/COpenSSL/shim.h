#ifndef ISCHEDULE_COPENSSL_SHIM_H
#define ISCHEDULE_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Function-like macros and variadics are invisible to Swift; these wrap them. */

static inline long ischedule_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

static inline void ischedule_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

/* Generates an RSA key of `bits` bits; NULL on failure. */
static inline EVP_PKEY *ischedule_generate_rsa(unsigned int bits) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0
        || EVP_PKEY_keygen(ctx, &key) <= 0) {
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* Passphrase callback that refuses: encrypted PEM files fail instead of prompting on a terminal. */
static inline int ischedule_no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return -1;
}

static inline EVP_PKEY *ischedule_read_private_key(BIO *bio) {
    return PEM_read_bio_PrivateKey(bio, NULL, ischedule_no_passphrase, NULL);
}

static inline EVP_PKEY *ischedule_read_public_key(BIO *bio) {
    return PEM_read_bio_PUBKEY(bio, NULL, ischedule_no_passphrase, NULL);
}

#endif
