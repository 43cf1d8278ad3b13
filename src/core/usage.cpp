// The --help text, as the binary prints it (`strings` shows it too).
#include "core/options.hpp"

namespace tc {

namespace {
constexpr char kUsage[] = R"HELP(Usage: tcp_closer [OPTION]... SELECTOR...
  or:  tcp_closer [OPTION]... --rules FILE
End the TCP connections (-u: connected UDP sockets) that match every kind of
selector given; within a kind, any value. Full reference: man tcp_closer.

Selectors (at least one of those marked *; repeatable):
  -s, --sport PORTS      * local ports
  -d, --dport PORTS      * remote ports
      --src CIDR         * local address or prefix
      --dst CIDR         * remote address or prefix
      --uid UID|NAME     * owner's user
      --pid PID          * holding process
      --comm NAME        * holding process's command name
      --cgroup PATH      * cgroup v2 the socket was made in
      --mark VAL[/MASK]  * firewall mark (SO_MARK)
      --dev IFNAME       * bound interface (SO_BINDTODEVICE)
      --src-removed      * local address gone (--src_removed; Linux 5.10)
      --stalled MS       * sent data unacknowledged for MS ms (TCP)
      --state LIST       established (default), syn-sent, ..., all
  -t, --idle_time MS     nothing received for MS ms (--idle-time; TCP)
      --last_recv_limit MS  something received within MS ms (--last-recv-limit)
      --send_idle MS     nothing sent for MS ms (--send-idle; TCP)
      --exclude-sport PORTS, --exclude-dport PORTS, --exclude-src CIDR,
      --exclude-dst CIDR, --exclude-uid UID|NAME, --exclude-comm NAME
                         never select what matches these
  -4, -6                 IPv4 (default), IPv6; -4 -6: both
  -u, --udp              connected UDP sockets; --tcp -u: both
      --tcp              TCP connections (the default)
      --max-kills N      end at most N per poll (--max_kills)
      --arm-user-timeout MS, --arm-keepalive IDLE_MS,INTERVAL_MS,COUNT
                         arm, not end: the holder's user timeout, keepalive
Rules, instead of selectors on the line:
      --rules FILE       a rule a line, NAME: SELECTORS; SIGHUP reloads FILE
      --check            check the options (and FILE), end nothing, exit
Run:
  -i, --interval SEC     poll every SEC seconds (e.g. 0.5) until SIGTERM
      --watch            also poll when a local address is removed
      --removed-grace MS wait before ending for --src-removed (default 100;
                         --removed_grace)
  -n, --dry-run          end nothing: list what would be (--dry_run)
  -j, --json             JSON on stdout: each connection, a summary per poll
  -f, --logfile PATH     log to PATH (default stderr; SIGHUP reopens it)
      --metrics FILE     Prometheus counters, rewritten after every poll
  -N, --netns NAME|PATH  work in that network namespace
      --all-netns        in every network namespace (--all_netns)
      --use_proc         end through /proc, not SOCK_DESTROY (--use-proc)
      --kill_owner       kill the holding processes (--kill-owner)
      --disable_syslog   do not also log to syslog (--disable-syslog)
  -v, --verbose          log every candidate and the compiled filter
  -h, --help             this help
  -V, --version          the version and what this build can do

PORTS: 80, 7000-7099 or a list (80,443,8000-8100). CIDR: 10.0.0.0/8,
192.0.2.7, 2001:db8::/32. Needs CAP_NET_ADMIN (-n: nothing).
Example: tcp_closer -n --dst 10.0.0.0/8 -d 5432
Exit status: 0 done (also when nothing matched), 1 failure, 2 usage error.
)HELP";
}  // namespace

std::string_view usage_text() { return {kUsage, sizeof kUsage - 1}; }

}  // namespace tc
