#include "engine/end_path.hpp"

#include "engine/sock_destroy.hpp"

namespace tc {

PathChoice path_for_probe(int probe_err) {
    PathChoice c;
    c.probe_err = probe_err;
    switch (probe_err) {
        case 0:       // (cannot happen: nothing matches the probe) would still mean "supported"
        case ENOENT:  // no such socket: the request reached SOCK_DESTROY's lookup
        case ESTALE:  // a socket matched but not the cookie: same
            return c;
        case EOPNOTSUPP:
            c.reason = "this kernel lacks SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY is not set)";
            break;
        case EINVAL:
            c.reason = "this kernel is older than 4.5 and has no SOCK_DESTROY";
            break;
        default:
            c.reason = "the SOCK_DESTROY probe was refused";
            break;
    }
    c.path = EndPath::Proc;
    return c;
}

Result<PathChoice> probe_path(DiagTransport& t) {
    Result<int> err = probe_sock_destroy(t);
    if (!err) return err.error();
    return path_for_probe(*err);
}

}  // namespace tc
