/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What crosses from flow.bpf.c to user space, and nothing else.
 *
 * Java mirrors (module exporter-sidecar, package io.flowsight.sidecar.bpf):
 *   struct flow_event      -> FlowEvent (offsets in FlowEvent.Layout, checked by FlowEventTest
 *                             against the _Static_asserts below)
 *   enum flow_event_type   -> FlowEventType
 *   enum flow_counter      -> BpfCounters
 *   FLOW_F_*               -> FlowEvent.FLAG_*
 *   map / program names    -> BpfNames (checked by BpfNamesTest against flow.bpf.c)
 * All multi-byte fields are in host byte order (little-endian on x86-64 and arm64).
 */
#ifndef FLOWSIGHT_FLOW_H
#define FLOWSIGHT_FLOW_H

#include <linux/types.h>

/*
 * flow_event.type. Only what user space cannot learn later crosses the ring buffer: a socket's
 * CLOSE (with everything its open and handshake told, kept in flow_socks until then) and a LISTEN.
 * Codes 1-3 were ACTIVE_OPEN, ACTIVE_ESTABLISHED and PASSIVE_ESTABLISHED events; those transitions
 * are now recorded in flow_socks only (FLOW_F_ACTIVE / FLOW_F_PASSIVE, start time, connect_us).
 * The codes are not reused.
 */
enum flow_event_type {
	FLOW_EV_CLOSE = 4,               /* any -> CLOSE (not CLOSE -> CLOSE): tcp_sock stats, side,
					  * duration since open, handshake time, process */
	FLOW_EV_LISTEN = 5,              /* any -> LISTEN: a service port */
	FLOW_EV_SNAPSHOT = 6,            /* iter/tcp: one open socket and its counters so far, with
					  * what CLOSE carries; read from the iterator, not the ring
					  * buffer; old = new state */
};

/* Index into the per-CPU array map flow_counters (one __u64 per CPU each). */
enum flow_counter {
	FLOW_CNT_EVENTS = 0,         /* events submitted to the ring buffer */
	FLOW_CNT_RB_DROPS = 1,       /* bpf_ringbuf_reserve failed (ring buffer full): event lost */
	FLOW_CNT_SOCK_MAP_FULL = 2,  /* flow_socks update failed (map full): pid/duration lost */
	FLOW_CNT_ACTIVE_OPEN = 3,    /* CLOSE -> SYN_SENT seen: connect(), recorded in flow_socks */
	FLOW_CNT_ACTIVE_ESTABLISHED = 4, /* SYN_SENT -> ESTABLISHED seen: handshake recorded */
	FLOW_CNT_PASSIVE_ESTABLISHED = 5, /* SYN_RECV -> ESTABLISHED seen: accepted, recorded */
	FLOW_CNT_CLOSE = 6,          /* = 2 + FLOW_EV_CLOSE: ring buffer events per type ... */
	FLOW_CNT_LISTEN = 7,         /* = 2 + FLOW_EV_LISTEN */
	FLOW_CNT_KPROBE_CONNECT = 8, /* kprobe tcp_v4/v6_connect runs */
	FLOW_CNT_KPROBE_ACCEPT = 9,  /* kretprobe inet_csk_accept runs with a socket */
	FLOW_CNT_MAX = 16,           /* max_entries of flow_counters; room to grow */
};

/* flow_event.flags */
#define FLOW_F_PID        0x01 /* pid and comm are valid */
#define FLOW_F_SEEN_OPEN  0x02 /* the socket was seen opening: duration_ns is valid */
#define FLOW_F_PID_KPROBE 0x04 /* pid/comm came from kprobe connect or kretprobe accept */
#define FLOW_F_FIN_ACKED  0x08 /* CLOSE/SNAP: our FIN was acknowledged, bytes_acked counts it */
#define FLOW_F_PEER_FIN   0x10 /* CLOSE/SNAP: the peer's FIN arrived, bytes_received counts it */
#define FLOW_F_ACTIVE     0x20 /* CLOSE/SNAP: this host connected (connect(): the CLIENT) */
#define FLOW_F_PASSIVE    0x40 /* CLOSE/SNAP: this host accepted (SYN_RECV -> ESTABLISHED or
				* accept(): the SERVER). Neither: opened before the program
				* was attached, side unknown */

/* flow_event.old_state / new_state: the kernel's TCP states (include/net/tcp_states.h). */
#define FLOW_TCP_ESTABLISHED 1
#define FLOW_TCP_SYN_SENT    2
#define FLOW_TCP_SYN_RECV    3
#define FLOW_TCP_FIN_WAIT1   4
#define FLOW_TCP_FIN_WAIT2   5
#define FLOW_TCP_TIME_WAIT   6
#define FLOW_TCP_CLOSE       7
#define FLOW_TCP_LAST_ACK    9
#define FLOW_TCP_LISTEN      10
#define FLOW_TCP_CLOSING     11
#define FLOW_TCP_NEW_SYN_RECV 12

#define FLOW_COMM_LEN 16

/*
 * One record, 144 bytes: from the ring buffer (flow_events), or from the iter/tcp iterator
 * (FLOW_EV_SNAPSHOT). Fixed width, largest first, explicit padding.
 * Java mirror: io.flowsight.sidecar.bpf.FlowEvent (decoded at the offsets asserted below).
 *
 * Byte order: numbers in host order; saddr/daddr in network order; sport/dport already in host
 * order (the tracepoint applies ntohs to the big-endian inet_sport / skc_dport; the iterator
 * reads the host-order skc_num and converts skc_dport).
 * "CLOSE/SNAP" fields are the tcp_sock counters, zero in other events.
 */
struct flow_event {
	__u64 ts_ns;          /*   0: bpf_ktime_get_ns(): CLOCK_MONOTONIC ns, not wall time */
	__u64 sk;             /*   8: struct sock * address: joins one socket's events; opaque */
	__u64 cgroup_id;      /*  16: cgroup v2 id of the socket (sk_cgrp_data), 0 if unknown */
	__u64 duration_ns;    /*  24: since open (active: SYN_SENT, passive: ESTABLISHED) or
			       *      listen; valid with FLOW_F_SEEN_OPEN */
	__u64 bytes_acked;    /*  32: CLOSE/SNAP: + 1 for our SYN (active side), + 1 for our FIN
			       *      with FLOW_F_FIN_ACKED */
	__u64 bytes_received; /*  40: CLOSE/SNAP: + 1 for the peer's FIN with FLOW_F_PEER_FIN */
	__u8 saddr[16];       /*  48: local address; IPv4 as ::ffff:a.b.c.d */
	__u8 daddr[16];       /*  64: remote address; IPv4 as ::ffff:a.b.c.d */
	char comm[FLOW_COMM_LEN]; /* 80: process name (thread group leader comm), NUL padded, with FLOW_F_PID */
	__u32 pid;            /*  96: tgid (the process id), valid with FLOW_F_PID */
	__u32 connect_us;     /* 100: CLOSE/SNAP of an active socket: the handshake (SYN_SENT ->
			       *      ESTABLISHED) in us, rounded up; 0 if unknown or never
			       *      established (a refused connect) */
	__u32 segs_in;        /* 104: CLOSE/SNAP */
	__u32 segs_out;       /* 108: CLOSE/SNAP */
	__u32 srtt_us;        /* 112: CLOSE/SNAP: smoothed RTT, us (srtt_us >> 3, as tcpi_rtt) */
	__u32 rttvar_us;      /* 116: CLOSE/SNAP: RTT deviation, us (mdev_us >> 2, as tcpi_rttvar);
			       *      0 without an RTT sample */
	__u32 total_retrans;  /* 120: CLOSE/SNAP: retransmitted segments */
	__u32 snd_cwnd;       /* 124: CLOSE/SNAP: congestion window, segments */
	__u16 sport;          /* 128: local port */
	__u16 dport;          /* 130: remote port */
	__u16 family;         /* 132: socket's AF_INET (2) or AF_INET6 (10, v4-mapped peers too) */
	__u8 type;            /* 134: enum flow_event_type */
	__u8 old_state;       /* 135: TCP state before the transition */
	__u8 new_state;       /* 136: TCP state after the transition */
	__u8 flags;           /* 137: FLOW_F_* */
	__u8 _pad[6];         /* 138: zero */
};

/* The layout the Java side reads. Changing any of these is a wire change: update FlowEvent too. */
_Static_assert(sizeof(struct flow_event) == 144, "flow_event size");
_Static_assert(__builtin_offsetof(struct flow_event, ts_ns) == 0, "ts_ns");
_Static_assert(__builtin_offsetof(struct flow_event, sk) == 8, "sk");
_Static_assert(__builtin_offsetof(struct flow_event, cgroup_id) == 16, "cgroup_id");
_Static_assert(__builtin_offsetof(struct flow_event, duration_ns) == 24, "duration_ns");
_Static_assert(__builtin_offsetof(struct flow_event, bytes_acked) == 32, "bytes_acked");
_Static_assert(__builtin_offsetof(struct flow_event, bytes_received) == 40, "bytes_received");
_Static_assert(__builtin_offsetof(struct flow_event, saddr) == 48, "saddr");
_Static_assert(__builtin_offsetof(struct flow_event, daddr) == 64, "daddr");
_Static_assert(__builtin_offsetof(struct flow_event, comm) == 80, "comm");
_Static_assert(__builtin_offsetof(struct flow_event, pid) == 96, "pid");
_Static_assert(__builtin_offsetof(struct flow_event, connect_us) == 100, "connect_us");
_Static_assert(__builtin_offsetof(struct flow_event, segs_in) == 104, "segs_in");
_Static_assert(__builtin_offsetof(struct flow_event, segs_out) == 108, "segs_out");
_Static_assert(__builtin_offsetof(struct flow_event, srtt_us) == 112, "srtt_us");
_Static_assert(__builtin_offsetof(struct flow_event, rttvar_us) == 116, "rttvar_us");
_Static_assert(__builtin_offsetof(struct flow_event, total_retrans) == 120, "total_retrans");
_Static_assert(__builtin_offsetof(struct flow_event, snd_cwnd) == 124, "snd_cwnd");
_Static_assert(__builtin_offsetof(struct flow_event, sport) == 128, "sport");
_Static_assert(__builtin_offsetof(struct flow_event, dport) == 130, "dport");
_Static_assert(__builtin_offsetof(struct flow_event, family) == 132, "family");
_Static_assert(__builtin_offsetof(struct flow_event, type) == 134, "type");
_Static_assert(__builtin_offsetof(struct flow_event, old_state) == 135, "old_state");
_Static_assert(__builtin_offsetof(struct flow_event, new_state) == 136, "new_state");
_Static_assert(__builtin_offsetof(struct flow_event, flags) == 137, "flags");
_Static_assert(__builtin_offsetof(struct flow_event, _pad) == 138, "_pad");

#endif /* FLOWSIGHT_FLOW_H */
