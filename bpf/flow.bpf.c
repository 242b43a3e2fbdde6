// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flowsight kernel side: two ring buffer events per loopback connection, one CLOSE per socket.
 *
 * The opening transitions (connect, handshake, accept) are only recorded in the per-socket map
 * flow_socks: side, start time, handshake time, process. A socket's CLOSE event (and its iter/tcp
 * snapshot while open) carries all of it, so nothing else crosses the ring buffer but the rare
 * LISTEN. The tracepoint sock/inet_sock_set_state is the only hook we need; the kprobes below only
 * add the pid/comm (and side) of connect() and accept() where the kernel allows them to attach, and
 * the iter/tcp program snapshots open sockets' counters for interim records. User space
 * (io.flowsight.sidecar.bpf.BpfObject) loads and attaches each program on its own, so a kernel
 * without kprobes or iterators still runs the tracepoint.
 */
#include "vmlinux_subset.h"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* What we remember per socket between its open and its close. Kernel-side only. */
struct sock_info {
	__u64 start_ns;    /* open (active), established (passive) or listen time; FLOW_F_SEEN_OPEN */
	__u32 pid;
	__u32 connect_us;  /* active: the handshake, us, rounded up; 0 until established */
	char comm[FLOW_COMM_LEN];
	__u8 flags;        /* FLOW_F_PID, FLOW_F_SEEN_OPEN, FLOW_F_PID_KPROBE, FLOW_F_ACTIVE/PASSIVE */
	__u8 _pad[7];
};

/* What a CLOSE or SNAPSHOT takes over from sock_info.flags. */
#define INFO_EVENT_FLAGS (FLOW_F_PID | FLOW_F_PID_KPROBE | FLOW_F_ACTIVE | FLOW_F_PASSIVE)

/* Events to user space; size (bytes, power of 2 and page multiple) set before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} flow_events SEC(".maps");

/* struct sock * -> sock_info; entries removed at -> CLOSE. Size set before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_info);
} flow_socks SEC(".maps");

/* enum flow_counter -> count, per CPU: no atomics on the hot path; user space sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flow_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&flow_counters, &idx);

	/* per-CPU and BPF programs do not nest on one CPU: a plain increment is safe */
	if (v)
		(*v)++;
}

/* cgroup v2 id of the socket's creator; inherited by accepted sockets, valid in softirq. */
static __always_inline __u64 sock_cgroup_id(struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data))
		return 0;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline void info_set_current(struct sock_info *info)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	info->pid = pid_tgid >> 32;
	/* The process's name (its main thread's comm), not the calling thread's, e.g. "java". */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	if (bpf_core_read_str(info->comm, sizeof(info->comm), &leader->comm) < 0)
		bpf_get_current_comm(info->comm, sizeof(info->comm));
	info->flags |= FLOW_F_PID;
}

/* Insert or replace; counts a full map. */
static __always_inline void info_store(__u64 key, struct sock_info *info)
{
	if (bpf_map_update_elem(&flow_socks, &key, info, BPF_ANY))
		count(FLOW_CNT_SOCK_MAP_FULL);
}

/* Reserve and fill the fields every event has; NULL (counted) when the ring buffer is full. */
static __always_inline struct flow_event *
event_start(struct trace_event_raw_inet_sock_set_state *ctx, struct sock *sk, __u8 type,
	    __u64 now)
{
	struct flow_event *e = bpf_ringbuf_reserve(&flow_events, sizeof(*e), 0);
	__u16 family = ctx->family;

	if (!e) {
		count(FLOW_CNT_RB_DROPS);
		return NULL;
	}
	/* reserved memory is not zeroed: clear everything, padding included */
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->sk = (__u64)sk;
	e->cgroup_id = sock_cgroup_id(sk);
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	e->family = family;
	e->type = type;
	e->old_state = ctx->oldstate;
	e->new_state = ctx->newstate;
	/*
	 * bpf_probe_read_kernel rather than memcpy: clang merges memcpy branches into a variable
	 * ctx offset, which the verifier rejects ("dereference of modified ctx ptr").
	 */
	if (family == AF_INET) {
		e->saddr[10] = 0xff;
		e->saddr[11] = 0xff;
		e->daddr[10] = 0xff;
		e->daddr[11] = 0xff;
		bpf_probe_read_kernel(&e->saddr[12], 4, ctx->saddr);
		bpf_probe_read_kernel(&e->daddr[12], 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
	return e;
}

static __always_inline void event_set_process(struct flow_event *e, struct sock_info *info)
{
	e->pid = info->pid;
	__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	e->flags |= info->flags & (FLOW_F_PID | FLOW_F_PID_KPROBE);
}

/* CLOSE and SNAPSHOT: everything the socket's open told, as of now. */
static __always_inline void event_set_info(struct flow_event *e, struct sock_info *info, __u64 now)
{
	event_set_process(e, info);
	e->flags |= info->flags & INFO_EVENT_FLAGS;
	e->connect_us = info->connect_us;
	if (info->flags & FLOW_F_SEEN_OPEN) {
		e->duration_ns = now - info->start_ns;
		e->flags |= FLOW_F_SEEN_OPEN;
	}
}

static __always_inline void event_submit(struct flow_event *e, __u8 type)
{
	/* no wakeup: user space drains the ring on a timer, which costs far less per event */
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	count(FLOW_CNT_EVENTS);
	count(2 + type);
}

/* CLOSE -> SYN_SENT: connect(), in process context. Recorded, not sent. */
static __always_inline void on_active_open(struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info info = {};
	struct sock_info *prev = bpf_map_lookup_elem(&flow_socks, &key);

	count(FLOW_CNT_ACTIVE_OPEN);
	/* the current task is the connecting one */
	if (prev)
		info.flags = prev->flags & FLOW_F_PID_KPROBE;
	info.start_ns = now;
	info.flags |= FLOW_F_SEEN_OPEN | FLOW_F_ACTIVE;
	info_set_current(&info);
	info_store(key, &info);
}

/* SYN_SENT -> ESTABLISHED, usually in softirq (the SYN-ACK): time the handshake. */
static __always_inline void on_active_established(struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info *info = bpf_map_lookup_elem(&flow_socks, &key);
	struct sock_info fresh = {};
	__u64 us;

	count(FLOW_CNT_ACTIVE_ESTABLISHED);
	if (!info) {
		/* the open was not seen (program attached in between, or the map was full) */
		fresh.flags = FLOW_F_ACTIVE;
		info_store(key, &fresh);
		return;
	}
	info->flags |= FLOW_F_ACTIVE;
	if (info->flags & FLOW_F_SEEN_OPEN) {
		/* rounded up: a known handshake is never 0, which means unknown */
		us = (now - info->start_ns + 999) / 1000;
		info->connect_us = us > 0xffffffffULL ? 0xffffffff : (__u32)us;
	}
}

/* SYN_RECV -> ESTABLISHED: an accepted connection, in softirq (no pid; accept() may add it). */
static __always_inline void on_passive_established(struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info info = {};
	struct sock_info *prev = bpf_map_lookup_elem(&flow_socks, &key);

	count(FLOW_CNT_PASSIVE_ESTABLISHED);
	/* a simultaneous open (SYN_SENT -> SYN_RECV -> ESTABLISHED) stays the connecting side */
	if (prev && (prev->flags & FLOW_F_ACTIVE))
		return;
	info.start_ns = now;
	info.flags = FLOW_F_SEEN_OPEN | FLOW_F_PASSIVE;
	info_store(key, &info);
}

static __always_inline void on_listen(struct trace_event_raw_inet_sock_set_state *ctx,
				      struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info info = {};
	struct flow_event *e;

	/* process context (listen()) */
	info.start_ns = now;
	info.flags = FLOW_F_SEEN_OPEN;
	info_set_current(&info);
	info_store(key, &info);

	e = event_start(ctx, sk, FLOW_EV_LISTEN, now);
	if (!e)
		return;
	event_set_process(e, &info);
	e->flags |= FLOW_F_SEEN_OPEN;
	event_submit(e, FLOW_EV_LISTEN);
}

/* States in which our FIN is queued (write_seq includes it). */
static __always_inline int fin_sent(int state)
{
	return state == FLOW_TCP_FIN_WAIT1 || state == FLOW_TCP_FIN_WAIT2 ||
	       state == FLOW_TCP_CLOSING || state == FLOW_TCP_LAST_ACK;
}

/* The tcp_sock counters; state is the one the socket was in (our FIN queued or not). */
static __always_inline void event_set_tcp_stats(struct flow_event *e, struct sock *sk, int state)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 srtt;

	/* SYN and FIN take one sequence number each, and the kernel counts them as bytes */
	if (fin_sent(state) && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		e->flags |= FLOW_F_FIN_ACKED;
	if (BPF_CORE_READ(sk, __sk_common.skc_flags) &
	    (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		e->flags |= FLOW_F_PEER_FIN;
	e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	e->bytes_received = BPF_CORE_READ(tp, bytes_received);
	e->segs_in = BPF_CORE_READ(tp, segs_in);
	e->segs_out = BPF_CORE_READ(tp, segs_out);
	srtt = BPF_CORE_READ(tp, srtt_us);
	e->srtt_us = srtt >> 3;
	/* without an RTT sample (listener, refused connect) mdev_us holds its 1 s seed: report 0 */
	if (srtt)
		e->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	e->total_retrans = BPF_CORE_READ(tp, total_retrans);
	e->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
}

static __always_inline void on_close(struct trace_event_raw_inet_sock_set_state *ctx,
				     struct sock *sk, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info *info = bpf_map_lookup_elem(&flow_socks, &key);
	struct flow_event *e;

	/*
	 * CLOSE -> CLOSE is close() of a socket that never connected or already closed (a refused
	 * connect closes twice): nothing to report, only forget what a kprobe may have stored.
	 */
	if (ctx->oldstate == FLOW_TCP_CLOSE)
		goto forget;

	e = event_start(ctx, sk, FLOW_EV_CLOSE, now);
	if (!e)
		goto forget;
	if (info)
		event_set_info(e, info, now);
	event_set_tcp_stats(e, sk, ctx->oldstate);
	event_submit(e, FLOW_EV_CLOSE);
forget:
	if (info)
		bpf_map_delete_elem(&flow_socks, &key);
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk;
	int oldstate, newstate;
	__u64 now;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	sk = (struct sock *)ctx->skaddr;
	oldstate = ctx->oldstate;
	newstate = ctx->newstate;
	now = bpf_ktime_get_ns();

	if (newstate == FLOW_TCP_SYN_SENT)
		on_active_open(sk, now);
	else if (newstate == FLOW_TCP_ESTABLISHED && oldstate == FLOW_TCP_SYN_SENT)
		on_active_established(sk, now);
	else if (newstate == FLOW_TCP_ESTABLISHED && oldstate == FLOW_TCP_SYN_RECV)
		on_passive_established(sk, now);
	else if (newstate == FLOW_TCP_LISTEN)
		on_listen(ctx, sk, now);
	else if (newstate == FLOW_TCP_CLOSE)
		on_close(ctx, sk, now);
	return 0;
}

/*
 * Record the current task as the socket's process and side (FLOW_F_ACTIVE or FLOW_F_PASSIVE);
 * keeps what is known already (start and handshake time, flags).
 */
static __always_inline void remember_process(struct sock *sk, __u8 side)
{
	__u64 key = (__u64)sk;
	struct sock_info info = {};
	struct sock_info *prev = bpf_map_lookup_elem(&flow_socks, &key);

	if (prev) {
		info.start_ns = prev->start_ns;
		info.connect_us = prev->connect_us;
		info.flags = prev->flags;
	}
	info_set_current(&info);
	info.flags |= FLOW_F_PID_KPROBE | side;
	info_store(key, &info);
}

/* connect(): runs before -> SYN_SENT, in the connecting task. */
SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(on_v4_connect, struct sock *sk)
{
#ifdef FLOW_TEST_BROKEN_KPROBE
	/* test build only (BpfFallbackIT): a map value used unchecked, which the verifier rejects */
	__u32 idx = FLOW_CNT_KPROBE_CONNECT;
	__u64 *broken = bpf_map_lookup_elem(&flow_counters, &idx);

	*broken += 1;
#endif
	count(FLOW_CNT_KPROBE_CONNECT);
	remember_process(sk, FLOW_F_ACTIVE);
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(on_v6_connect, struct sock *sk)
{
	count(FLOW_CNT_KPROBE_CONNECT);
	remember_process(sk, FLOW_F_ACTIVE);
	return 0;
}

/* accept(): the returned socket is ESTABLISHED (or later); its later CLOSE carries this pid. */
SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(on_accept_ret, struct sock *sk)
{
	if (!sk)
		return 0;
	/* already closed (reset before accept): its CLOSE has passed, storing would leak */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == FLOW_TCP_CLOSE)
		return 0;
	count(FLOW_CNT_KPROBE_ACCEPT);
	remember_process(sk, FLOW_F_PASSIVE);
	return 0;
}

/*
 * Snapshot of every open TCP socket with its counters so far, for interim records of long
 * connections (user space reads the iterator on a timer). Full sockets only: timewait and
 * request sockets have no tcp_sock counters.
 */
SEC("iter/tcp")
int snapshot_tcp(struct bpf_iter__tcp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct sock_common *skc = ctx->sk_common;
	struct flow_event e = {};
	struct sock_info *info;
	struct tcp_sock *tp;
	struct sock *sk;
	__u64 key, now;
	int state;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	sk = (struct sock *)tp;
	key = (__u64)sk;
	now = bpf_ktime_get_ns();
	state = BPF_CORE_READ(skc, skc_state);

	e.ts_ns = now;
	e.sk = key;
	e.cgroup_id = sock_cgroup_id(sk);
	e.type = FLOW_EV_SNAPSHOT;
	e.old_state = state;
	e.new_state = state;
	e.family = BPF_CORE_READ(skc, skc_family);
	e.sport = BPF_CORE_READ(skc, skc_num);
	e.dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (e.family == AF_INET) {
		e.saddr[10] = 0xff;
		e.saddr[11] = 0xff;
		e.daddr[10] = 0xff;
		e.daddr[11] = 0xff;
		/* explicit sizes: BPF_CORE_READ_INTO would take sizeof(*dst), one byte here */
		bpf_core_read(&e.saddr[12], 4, &skc->skc_rcv_saddr);
		bpf_core_read(&e.daddr[12], 4, &skc->skc_daddr);
	} else {
		bpf_core_read(e.saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(e.daddr, 16, &skc->skc_v6_daddr);
	}
	info = bpf_map_lookup_elem(&flow_socks, &key);
	if (info)
		event_set_info(&e, info, now);
	event_set_tcp_stats(&e, sk, state);
	bpf_seq_write(seq, &e, sizeof(e));
	return 0;
}
