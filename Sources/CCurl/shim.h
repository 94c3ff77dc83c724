#ifndef ISCHEDULE_CCURL_SHIM_H
#define ISCHEDULE_CCURL_SHIM_H

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic: Swift sees them only
   through these typed wrappers. */

static inline CURLcode ischedule_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ischedule_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ischedule_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ischedule_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ischedule_curl_easy_setopt_write_function(CURL *handle,
    size_t (*function)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, function);
}

static inline CURLcode ischedule_curl_easy_setopt_read_function(CURL *handle,
    size_t (*function)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, function);
}

static inline CURLcode ischedule_curl_easy_setopt_header_function(CURL *handle,
    size_t (*function)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, function);
}

static inline CURLcode ischedule_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ischedule_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode ischedule_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

static inline CURLcode ischedule_curl_easy_setopt_prereq_function(CURL *handle,
    int (*function)(void *, char *, char *, int, int)) {
    return curl_easy_setopt(handle, CURLOPT_PREREQFUNCTION, function);
}

/* Called before libcurl creates a socket for a connection: the address about to be dialled is
   checked there, before any connect(2). */
static inline CURLcode ischedule_curl_easy_setopt_opensocket_function(CURL *handle,
    curl_socket_t (*function)(void *, curlsocktype, struct curl_sockaddr *)) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, function);
}

static inline const struct sockaddr *ischedule_curl_sockaddr_address(const struct curl_sockaddr *address) {
    return &address->addr;
}

/* The CURLMsg union and the done-message test, readable from Swift. */
static inline int ischedule_curl_msg_is_done(const CURLMsg *message) {
    return message->msg == CURLMSG_DONE;
}

static inline CURLcode ischedule_curl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

static inline CURL *ischedule_curl_msg_handle(const CURLMsg *message) {
    return message->easy_handle;
}

/* CURLVERSION_NOW and CURL_GLOBAL_DEFAULT are macro aliases Swift cannot import. */
static inline curl_version_info_data *ischedule_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

static inline CURLcode ischedule_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* DANE (RFC 7671) for one transfer, checked by OpenSSL's own DANE verifier (the one Postfix
   uses): libcurl hands over each connection's SSL_CTX before the handshake; the certificate check
   then runs with the transfer's TLSA records instead of the WebPKI roots. DANE-EE(3) matches
   the leaf without name checks (RFC 7671 §5.1); DANE-TA(2) needs a chain to the matched anchor
   and the base domain in the certificate (§5.2). */
#define ISCHEDULE_DANE_MAX_RECORDS 32

typedef struct ischedule_dane {
    char *base_domain;
    int count;
    unsigned char usage[ISCHEDULE_DANE_MAX_RECORDS];
    unsigned char selector[ISCHEDULE_DANE_MAX_RECORDS];
    unsigned char matching[ISCHEDULE_DANE_MAX_RECORDS];
    unsigned char *data[ISCHEDULE_DANE_MAX_RECORDS];
    size_t length[ISCHEDULE_DANE_MAX_RECORDS];
    /* After a handshake: 1 when a TLSA record matched, -1 when none did, 0 when not checked. */
    int verdict;
} ischedule_dane;

static inline ischedule_dane *ischedule_dane_new(const char *base_domain) {
    ischedule_dane *dane = calloc(1, sizeof *dane);
    if (dane == NULL) return NULL;
    dane->base_domain = strdup(base_domain);
    if (dane->base_domain == NULL) { free(dane); return NULL; }
    return dane;
}

/* Returns 0, or -1 when full or out of memory. */
static inline int ischedule_dane_add(ischedule_dane *dane, unsigned char usage, unsigned char selector,
                                     unsigned char matching, const unsigned char *data, size_t length) {
    if (dane->count >= ISCHEDULE_DANE_MAX_RECORDS || length == 0) return -1;
    unsigned char *copy = malloc(length);
    if (copy == NULL) return -1;
    memcpy(copy, data, length);
    int index = dane->count++;
    dane->usage[index] = usage;
    dane->selector[index] = selector;
    dane->matching[index] = matching;
    dane->data[index] = copy;
    dane->length[index] = length;
    return 0;
}

static inline void ischedule_dane_free(ischedule_dane *dane) {
    if (dane == NULL) return;
    for (int index = 0; index < dane->count; index++) free(dane->data[index]);
    free(dane->base_domain);
    free(dane);
}

static inline int ischedule_dane_verdict(const ischedule_dane *dane) { return dane->verdict; }

/* Replaces X509_verify_cert for the connection: DANE is enabled on its SSL with the records
   (an unusable record is skipped by OpenSSL), then the chain is verified. Fails closed. */
static inline int ischedule_dane_verify(X509_STORE_CTX *store, void *argument) {
    ischedule_dane *dane = argument;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    dane->verdict = -1;
    if (ssl == NULL || SSL_dane_enable(ssl, dane->base_domain) <= 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int usable = 0;
    for (int index = 0; index < dane->count; index++) {
        if (SSL_dane_tlsa_add(ssl, dane->usage[index], dane->selector[index], dane->matching[index],
                              dane->data[index], dane->length[index]) > 0) usable++;
    }
    /* A record OpenSSL refused leaves an error queued, which libcurl would report instead of the
       verification's own. */
    ERR_clear_error();
    if (usable == 0) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_DANE_NO_MATCH);
        return 0;
    }
    X509_STORE_CTX_set0_dane(store, SSL_get0_dane(ssl));
    if (X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(store), dane->base_domain, 0) != 1) return 0;
    int verified = X509_verify_cert(store);
    if (verified > 0) dane->verdict = 1;
    return verified > 0 ? 1 : 0;
}

static inline CURLcode ischedule_dane_ssl_ctx(CURL *handle, void *context, void *argument) {
    (void)handle;
    if (SSL_CTX_dane_enable((SSL_CTX *)context) <= 0) return CURLE_SSL_CERTPROBLEM;
    /* The context lives only as long as the transfer's own connection (never reused, see
       CurlTransfer), and no renegotiation may run the check again after the transfer ends. */
    SSL_CTX_set_options((SSL_CTX *)context, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_cert_verify_callback((SSL_CTX *)context, ischedule_dane_verify, argument);
    return CURLE_OK;
}

/* Makes every connection of the transfer verify by `dane` (which must outlive the transfer). */
static inline CURLcode ischedule_curl_easy_setopt_dane(CURL *handle, ischedule_dane *dane) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, ischedule_dane_ssl_ctx);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, dane);
}

#endif
