#ifndef ISCHEDULE_COPENSSL_SHIM_H
#define ISCHEDULE_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
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

/* SHA-256 of the DER SubjectPublicKeyInfo of the first certificate in the PEM text (a TLSA
   "3 1 1" record's data); returns 0, or -1 when there is no readable certificate. */
static inline int ischedule_certificate_spki_sha256(const char *pem, int length, unsigned char digest[32]) {
    BIO *bio = BIO_new_mem_buf(pem, length);
    if (bio == NULL) return -1;
    X509 *certificate = PEM_read_bio_X509(bio, NULL, ischedule_no_passphrase, NULL);
    BIO_free(bio);
    if (certificate == NULL) return -1;
    unsigned char *der = NULL;
    int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
    X509_free(certificate);
    if (size <= 0) return -1;
    SHA256(der, (size_t)size, digest);
    OPENSSL_free(der);
    return 0;
}

#endif
