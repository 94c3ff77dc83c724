#ifndef ISCHEDULE_CRESOLV_SHIM_H
#define ISCHEDULE_CRESOLV_SHIM_H

#include <sys/types.h>
#include <netinet/in.h>
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

static inline int ischedule_res_nquery(struct __res_state *state, const char *name, int class_, int type,
                                       unsigned char *answer, int length) {
    return res_nquery(state, name, class_, type, answer, length);
}

static inline int ischedule_res_state_h_errno(const struct __res_state *state) {
    return state->res_h_errno;
}

static inline int ischedule_ns_msg_count(ns_msg handle, ns_sect section) {
    return ns_msg_count(handle, section);
}

static inline int ischedule_ns_msg_rcode(ns_msg handle) {
    return (int)ns_msg_getflag(handle, ns_f_rcode);
}

static inline const unsigned char *ischedule_ns_msg_base(ns_msg handle) { return ns_msg_base(handle); }
static inline const unsigned char *ischedule_ns_msg_end(ns_msg handle) { return ns_msg_end(handle); }
static inline unsigned ischedule_ns_rr_type(ns_rr rr) { return ns_rr_type(rr); }
static inline unsigned ischedule_ns_rr_class(ns_rr rr) { return ns_rr_class(rr); }
static inline unsigned ischedule_ns_rr_ttl(ns_rr rr) { return ns_rr_ttl(rr); }
static inline unsigned ischedule_ns_rr_rdlen(ns_rr rr) { return ns_rr_rdlen(rr); }
static inline const unsigned char *ischedule_ns_rr_rdata(ns_rr rr) { return ns_rr_rdata(rr); }
static inline const char *ischedule_ns_rr_name(const ns_rr *rr) { return rr->name; }

#endif
