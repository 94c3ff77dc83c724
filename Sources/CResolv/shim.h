#ifndef ISCHEDULE_CRESOLV_SHIM_H
#define ISCHEDULE_CRESOLV_SHIM_H

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

/* `struct __res_state` collides with the `__res_state()` function and res_ninit & co. are
   macros over __res_n*: Swift reaches them only through these wrappers. The state is heap
   allocated so Swift never holds a pointer to a Swift-managed buffer. */

static inline struct __res_state *ischedule_res_state_new(void) {
    struct __res_state *state = calloc(1, sizeof(struct __res_state));
    if (state == NULL) return NULL;
    if (res_ninit(state) != 0) {
        free(state);
        return NULL;
    }
    return state;
}

static inline void ischedule_res_state_free(struct __res_state *state) {
    if (state == NULL) return;
    res_nclose(state);
    free(state);
}

/* Points the resolver at explicit IPv4 servers (tests aim it at a loopback port); returns 0, or -1
   when `address` is not an IPv4 literal. */
static inline int ischedule_res_set_server(struct __res_state *state, int index, const char *address,
                                           unsigned short port) {
    if (index < 0 || index >= MAXNS) return -1;
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &server.sin_addr) != 1) return -1;
    state->nsaddr_list[index] = server;
    state->_u._ext.nsaddrs[index] = NULL;
    if (state->nscount < index + 1) state->nscount = index + 1;
    return 0;
}

static inline void ischedule_res_set_server_count(struct __res_state *state, int count) {
    state->nscount = count;
}

/* Per-try timeout in seconds and number of tries per server. */
static inline void ischedule_res_set_timing(struct __res_state *state, int seconds, int attempts) {
    state->retrans = seconds;
    state->retry = attempts;
}

/* glibc's res_nsend drops SERVFAIL/NOTIMP/REFUSED replies and reports ETIMEDOUT, unless pfcode is
   set (BIND's "called from dig" rule): set it so a server failure can be told from a timeout. */
static inline void ischedule_res_return_failure_replies(struct __res_state *state) {
    state->pfcode = RES_PRF_REPLY;
}

/* Builds a query and sends it (UDP, retried over TCP when the answer is truncated). Returns the
   answer length, or -1 with errno set (ETIMEDOUT when no server answered).
   With `dnssec`, the query carries the AD bit and an EDNS0 OPT record with the DO bit (RFC 6840
   §5.7, RFC 3225), and glibc is told to keep the answer's AD bit (RES_TRUSTAD) instead of clearing
   it: the caller trusts that bit only from a validator it trusts. */
static inline int ischedule_res_query_raw(struct __res_state *state, const char *name, int type,
                                          unsigned char *answer, int length, int dnssec) {
    unsigned char query[NS_PACKETSZ];
    if (dnssec) state->options |= RES_TRUSTAD;
    int queryLength = res_nmkquery(state, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, query, sizeof query);
    if (queryLength < 0) return -2;
    if (dnssec) {
        static const unsigned char opt[11] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0}; /* root, OPT, 1232, DO */
        if (queryLength + (int)sizeof opt > (int)sizeof query) return -2;
        memcpy(query + queryLength, opt, sizeof opt);
        queryLength += sizeof opt;
        query[3] |= 0x20;  /* AD */
        query[11] += 1;    /* ARCOUNT: res_nmkquery writes none */
    }
    return res_nsend(state, query, queryLength, answer, length);
}

/* Whether the answer's AD (authenticated data) bit is set. */
static inline int ischedule_ns_msg_authenticated(ns_msg handle) {
    return (int)ns_msg_getflag(handle, ns_f_ad);
}

static inline int ischedule_ns_expand_name(const unsigned char *message, const unsigned char *end,
                                           const unsigned char *source, char *destination, int size) {
    return dn_expand(message, end, source, destination, size);
}

static inline int ischedule_ns_msg_count(ns_msg handle, ns_sect section) {
    return ns_msg_count(handle, section);
}

static inline int ischedule_ns_msg_rcode(ns_msg handle) {
    return (int)ns_msg_getflag(handle, ns_f_rcode);
}

static inline unsigned ischedule_ns_rr_type(ns_rr rr) { return ns_rr_type(rr); }
static inline unsigned ischedule_ns_rr_class(ns_rr rr) { return ns_rr_class(rr); }
static inline unsigned ischedule_ns_rr_ttl(ns_rr rr) { return ns_rr_ttl(rr); }
static inline unsigned ischedule_ns_rr_rdlen(ns_rr rr) { return ns_rr_rdlen(rr); }
static inline const unsigned char *ischedule_ns_rr_rdata(ns_rr rr) { return ns_rr_rdata(rr); }

#endif
