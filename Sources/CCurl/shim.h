#ifndef ISCHEDULE_CCURL_SHIM_H
#define ISCHEDULE_CCURL_SHIM_H

#include <curl/curl.h>

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

#endif
