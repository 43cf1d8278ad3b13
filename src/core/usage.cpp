// The --help text, as the binary prints it (`strings` shows it too).
#include "core/options.hpp"

namespace tc {

namespace {
constexpr char kUsage[] = R"HELP(Usage: tcp_closer [options] -s PORTS | -d PORTS | --src CIDR | --dst CIDR | OWNER | --src-removed | --stalled MS
End TCP connections (with -u connected UDP sockets) selected by port, address,
state, owner, idle time or a dead peer; once, or every SEC seconds. The kernel
resets them (SOCK_DESTROY); where it cannot, or with --use_proc, each is reset
inside the process that holds it (the /proc path). The full reference:
tcp_closer(8).

  -u, --udp              match connected UDP sockets (an unconnected one, such
                         as a server's, is never destroyed); alone: UDP only
      --tcp              match TCP connections (the default); --tcp -u: both
  -4                     match IPv4 connections, including IPv4 on dual-stack
                         IPv6 sockets (::ffff:a.b.c.d); the default
  -6                     match native IPv6 connections; -4 -6 for both
  -s, --sport PORTS      local (source) ports to match; repeatable
  -d, --dport PORTS      remote (destination) ports to match; repeatable
      --src CIDR         local address or prefix (10.0.0.0/8, 192.0.2.7,
                         2001:db8::/32, ::1); repeatable, any of them matches;
                         an IPv4 prefix also matches ::ffff:a.b.c.d
      --dst CIDR         remote address or prefix; the same rules
      --src-removed      connections whose local address no local route covers
                         (a removed address), before the socket dump and still
                         a grace after it; never transparent or freebind
                         sockets; a selection on its own (needs Linux 5.10,
                         or --src to bound it)
      --removed-grace MS that grace (default 100; 0-10000)
      --state LIST       states to match, comma-separated: established (the
                         default), syn-sent, syn-recv, fin-wait-1, fin-wait-2,
                         time-wait, close-wait, last-ack, closing, or all (all
                         but listening: a listening socket is never destroyed);
                         a connected UDP socket counts as established
      --uid UID|NAME     sockets of that user (names from /etc/passwd)
      --cgroup PATH      sockets created in that cgroup v2 directory: a path
                         below the cgroup2 mount (/system.slice/nginx.service)
                         or a full path
      --mark VALUE[/MASK] firewall mark (SO_MARK), e.g. 0x10 or 0x10/0xf0
      --dev IFNAME       sockets bound to that interface (SO_BINDTODEVICE)
      --pid PID          sockets held by that process
      --comm NAME        sockets held by processes with that command name
      --exclude-sport PORTS, --exclude-dport PORTS, --exclude-src CIDR,
      --exclude-dst CIDR, --exclude-uid UID|NAME, --exclude-comm NAME
                         never select a connection that matches any of these
                         (the same values as the positive forms; repeatable);
                         they narrow a selection and are not one
  -t, --idle_time MS     only connections whose last received data is at
                         least MS ms old; TCP only
      --last_recv_limit MS
                         only connections whose last received data is less
                         than MS ms old (default 0: no limit; must be above -t)
      --stalled MS       a dead peer: data sent but not acknowledged, and no
                         acknowledgement for at least MS ms; a selection on
                         its own; TCP only
      --send_idle MS     only connections that sent no data for at least MS
                         ms (--send-idle too; with -t: idle both ways); not a
                         selection on its own; TCP only
  -i, --interval SEC     poll every SEC seconds (e.g. 5 or 0.5) and keep running
                         (SIGTERM/SIGINT: stop, exit 0; SIGHUP: reopen the -f
                         log); without it: poll once and exit
      --watch            also poll at once when a local address is removed
                         (address events); without -i, poll only on those
                         and keep running until SIGTERM/SIGINT; not with
                         --all-netns
  -f, --logfile PATH     append log lines to PATH (default: stderr)
      --metrics FILE     after every poll, replace FILE with the run's
                         counters (Prometheus text, for node_exporter)
  -N, --netns NAME|PATH  work in another network namespace: a name under
                         /var/run/netns (as ip netns uses) or a path such as
                         /proc/PID/ns/net (needs CAP_SYS_ADMIN)
      --all-netns        every network namespace on the host (named ones and
                         those of running processes), each poll; log lines
                         name their namespace
  -n, --dry-run          end nothing: list on stdout what would be ended (the
                         poll summary stays in the log); needs no privileges
  -j, --json             also write one JSON object per selected connection
                         and one summary object per poll on stdout
      --max-kills N      end at most N connections per poll; the rest are
                         logged and counted as skipped
  -v, --verbose          also log every candidate with its tcp_info figures and
                         the compiled filter, op by op
      --use_proc         use the /proc path even where SOCK_DESTROY works
      --kill_owner       /proc path, but kill the processes holding the
                         connections instead of resetting them
      --disable_syslog   do not also log to syslog (ident tcp_closer, facility daemon)
  -h, --help             show this help and exit
  -V, --version          show the version and exit
Dashed spellings (--idle-time, --last-recv-limit, --use-proc, --kill-owner,
--disable-syslog) are accepted too, and so are --dry_run, --max_kills,
--all_netns, --src_removed and --removed_grace.

PORTS is a port (1-65535), a range (7000-7099) or a comma list of those
(80,443,8000-8100). A connection is selected when it matches every kind of
selector given (source ports, destination ports, --src, --dst, --state,
owners: --uid ... --comm, each repeatable up to 8 times); within a kind, any
value matches. At least one port, address, owner, --src-removed or --stalled
is required. --mark needs CAP_NET_ADMIN even with --dry-run; --pid, --comm
and --exclude-comm CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.
Without -4/-6 the family follows the addresses given (IPv4 when none).
Example: tcp_closer -n --dst 10.0.0.0/8 -d 5432 --state established,close-wait
All of 10.0.0.0/8 but SSH: tcp_closer --dst 10.0.0.0/8 --exclude-sport 22 --exclude-dport 22
Dead peers, as a daemon: tcp_closer --stalled 30000 -i 5

Capabilities: SOCK_DESTROY needs CAP_NET_ADMIN; the /proc path CAP_SYS_PTRACE,
CAP_DAC_READ_SEARCH and CAP_KILL; --netns/--all-netns CAP_SYS_ADMIN (and
--all-netns CAP_SYS_PTRACE); --dry-run none. A missing one is named at start-up.

Exit status: 0 success (also when nothing matched), 1 runtime failure
(netlink or /proc unavailable, permission denied, a connection that could not
be ended or whose holder is out of sight), 2 usage error. A connection with no
socket file (no_owner) or that closed by itself (vanished) is not a failure.
)HELP";
}  // namespace

std::string_view usage_text() { return {kUsage, sizeof kUsage - 1}; }

}  // namespace tc
