/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The few kernel types flow.bpf.c reads, written by hand instead of a 100k-line vmlinux.h.
 *
 * Only the fields we touch are declared; their order and offsets here do not matter:
 * preserve_access_index makes clang record each access as a CO-RE relocation (type and field
 * names), and libbpf rewrites the offsets against the running kernel's BTF at load time.
 * Field names and types must match the kernel's (bpftool btf dump file /sys/kernel/btf/vmlinux).
 */
#ifndef FLOWSIGHT_VMLINUX_SUBSET_H
#define FLOWSIGHT_VMLINUX_SUBSET_H

#include <linux/types.h>

/* Tell bpf_tracing.h that pt_regs has the kernel's register names (di, si, ax, ...). */
#define __VMLINUX_H__

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* x86-64 kprobe context; PT_REGS_PARM1 reads di, PT_REGS_RC reads ax. */
struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};

/* The process name is the thread group leader's comm: a thread's own comm is its thread name. */
struct task_struct {
	struct task_struct *group_leader;
	char comm[16];
};

struct kernfs_node {
	__u64 id; /* what bpf_get_current_cgroup_id() returns for a cgroup */
};

struct cgroup {
	struct kernfs_node *kn;
};

/* CONFIG_SOCK_CGROUP_DATA; the cgroup v2 (default hierarchy) cgroup of the socket's creator. */
struct sock_cgroup_data {
	struct cgroup *cgroup;
};

struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;     /* network order */
	__be32 skc_rcv_saddr; /* network order */
	__be16 skc_dport;     /* network order */
	__u16 skc_num;        /* local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state;
	unsigned long skc_flags; /* sk_flags: bits of enum sock_flags */
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

/* Bit numbers in sk_flags; CO-RE reads the running kernel's values (bpf_core_enum_value). */
enum sock_flags {
	SOCK_DEAD = 0,
	SOCK_DONE = 1, /* TCP: set by tcp_fin(), the peer's FIN arrived */
};

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
};

/* A struct sock * of an IPPROTO_TCP socket is a struct tcp_sock * (sock is its first member). */
struct tcp_sock {
	__u32 write_seq;      /* end of queued data, + 1 once our FIN is queued */
	__u32 snd_una;        /* first byte not yet acknowledged */
	__u32 snd_cwnd;       /* segments */
	__u32 segs_in;
	__u32 segs_out;
	__u32 srtt_us;        /* smoothed RTT << 3, in us */
	__u32 mdev_us;        /* RTT mean deviation << 2, in us */
	__u32 total_retrans;
	__u64 bytes_received; /* RFC 4898 tcpEStatsAppHCThruOctetsReceived, + 1 for the peer's FIN */
	__u64 bytes_acked;    /* RFC 4898 tcpEStatsAppHCThruOctetsAcked, + 1 for our SYN and FIN */
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

/* The context of an iter/tcp program: one call per TCP socket (full, timewait or request). */
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
};

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

/* The context of tracepoint sock/inet_sock_set_state (include/trace/events/sock.h). */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;       /* host order: ntohs(inet_sport) */
	__u16 dport;       /* host order: ntohs(inet_dport) */
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];     /* network order */
	__u8 daddr[4];
	__u8 saddr_v6[16]; /* network order; v4-mapped for AF_INET */
	__u8 daddr_v6[16];
	char __data[0];
};

#pragma clang attribute pop

#endif /* FLOWSIGHT_VMLINUX_SUBSET_H */
