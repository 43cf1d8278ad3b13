#include "engine/end_path.hpp"

#include "engine/sock_destroy.hpp"

namespace tc {

PathChoice path_for_probe(int probe_err, Proto p) {
    PathChoice c;
    c.probe_err = probe_err;
    switch (probe_err) {
        case 0:       // (cannot happen: nothing matches the probe) would still mean "supported"
        case ENOENT:  // no such socket: the request reached SOCK_DESTROY's lookup
        case ESTALE:  // a socket matched but not the cookie: same
            return c;
        case EOPNOTSUPP:
            // udp_diag before 4.9 has no destroy; TCP's needs only the config.
            c.reason = p == Proto::Udp ? "this kernel cannot destroy UDP sockets (Linux 4.9 and later can, "
                                         "with CONFIG_INET_DIAG_DESTROY)"
                                       : "this kernel lacks SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY is not set)";
            break;
        case EINVAL:
            c.reason = "this kernel is older than 4.5 and has no SOCK_DESTROY";
            break;
        default:
            c.reason = p == Proto::Udp ? "the UDP SOCK_DESTROY probe was refused" : "the SOCK_DESTROY probe was refused";
            break;
    }
    c.path = EndPath::Proc;
    return c;
}

Result<PathChoice> probe_path(DiagTransport& t, Proto p) {
    Result<int> err = probe_sock_destroy(t, p);
    if (!err) return err.error();
    return path_for_probe(*err, p);
}

}  // namespace tc
