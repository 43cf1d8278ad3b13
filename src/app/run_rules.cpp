// The rules file of a run (--rules): read and parsed, its names resolved,
// put in force (the log and the metrics name the rules), and read again on
// SIGHUP, where a file with errors changes nothing. The other steps of a
// run are in run.cpp.
#include "app/run.hpp"

#include "core/errors.hpp"
#include "core/fmt.hpp"
#include "sys/owner_sys.hpp"

namespace tc {

Status Run::read_rules(RuleSet& into) {
    if (Status s = sys::read_small_file(opt_.rules, rules_text_, 1 << 20); !s) return s;
    rule_errors_.clear();
    if (!into.parse(std::string_view(rules_text_.data(), rules_text_.size()), rule_errors_))
        return make_error(EINVAL, "errors in the rules file", ErrorKind::Usage);
    return {};
}

Status Run::resolve_rules(RuleSet& rules) {
    rule_errors_.clear();
    // Names are numbers now: --uid root --exclude-uid 0 is caught here.
    for (Rule& r : rules.rules()) {
        r.sel.removed_grace_ms = opt_.sel.removed_grace_ms;  // the run's
        const char* m = nullptr;
        const char* value = "";
        for (OwnerSel* o : {&r.sel.owner, &r.sel.ex.owner}) {
            if (m || !o->any()) continue;
            if (Status s = sys::resolve_owner(*o, owner_why_); !s) {
                m = s.error().what;
                value = owner_why_.value ? owner_why_.value : "";
            }
        }
        if (!m) m = excluded_entirely(r.sel, true);
        if (!m && r.sel.owner.n_dev && opt_.all_netns) m = "--dev and --all-netns exclude each other";
        if (!m && r.sel.src_removed && r.sel.srcs.empty() && !started_.src_removed_unbounded)
            m = "--src-removed without --src needs Linux 5.10 or later: add --src";
        if (!m) continue;
        RuleError e;
        e.line = r.line;
        fmt(e.text, sizeof e.text, "%s%s%s%s", m, *value ? ": '" : "", value, *value ? "'" : "");
        if (!rule_errors_.push_back(e)) return make_error(ENOMEM, "out of memory");
    }
    if (rule_errors_.size()) return make_error(EINVAL, "errors in the rules file", ErrorKind::Usage);
    return {};
}

void Run::use_rules() {
    use_ = rules_use(rules_.rules());
    log_.use_rules(rules_.rules(), use_.figures, use_.tcp && use_.udp);
    if (opt_.rules) metrics_.use_rules(rules_.rules());
}

void Run::reload_rules() {
    RuleSet next;
    char buf[kLineMax];
    Status s = read_rules(next);
    if (s) s = resolve_rules(next);
    const char* restart = s ? needs_restart(started_, rules_use(next.rules())) : nullptr;
    if (s && !restart) {
        rules_.swap(next);
        use_rules();
        metrics_.rules_reloaded(true);
        fmt(buf, sizeof buf, "rules: read %s again: %zu rule(s)", opt_.rules, rules_.size());
        log_.line(buf);
        return;
    }
    metrics_.rules_reloaded(false);
    if (!s && s.error().kind != ErrorKind::Usage) {
        fmt(buf, sizeof buf, "error: rules: %s %s: %s", s.error().what, opt_.rules, error_text(s.error().code));
        log_.line(buf, true);
    }
    for (size_t i = 0; !s && i < rule_errors_.size(); ++i) {
        fmt(buf, sizeof buf, "error: %s:%u: %s", opt_.rules, rule_errors_[i].line, rule_errors_[i].text);
        log_.line(buf, true);
    }
    if (restart) {
        fmt(buf, sizeof buf, "error: %s: a rule has %s: restart tcp_closer for it", opt_.rules, restart);
        log_.line(buf, true);
    }
    fmt(buf, sizeof buf, "rules: keeping the %zu rule(s) in force", rules_.size());
    log_.line(buf, true);
}

}  // namespace tc
