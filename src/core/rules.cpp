#include "core/rules.hpp"

#include <cstring>

#include "core/fmt.hpp"
#include "core/options.hpp"

namespace tc {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

// Splits [r, eol) into words as a shell would, unquoting in place: each
// word is written at or before where it was read and ends with a NUL (the
// separator after it, or at eol the line's own end, makes the room).
// Returns nullptr or what is wrong.
const char* split_words(char* r, char* eol, PodVec<const char*>& words) {
    char* w = r;
    while (true) {
        while (r < eol && is_space(*r)) ++r;
        if (r == eol || *r == '#') return nullptr;
        const char* word = w;
        while (r < eol && !is_space(*r)) {
            const char c = *r++;
            if (c == '\'') {
                while (r < eol && *r != '\'') *w++ = *r++;
                if (r == eol) return "a single quote is not closed";
                ++r;
            } else if (c == '"') {
                while (r < eol && *r != '"') {
                    if (*r == '\\' && r + 1 < eol && (r[1] == '"' || r[1] == '\\')) ++r;
                    *w++ = *r++;
                }
                if (r == eol) return "a double quote is not closed";
                ++r;
            } else if (c == '\\') {
                if (r == eol) return "a backslash ends the line (a rule is one line)";
                *w++ = *r++;
            } else {
                *w++ = c;
            }
        }
        if (r < eol) ++r;  // the space after the word: w is now before r
        *w++ = '\0';
        if (!words.push_back(word)) return "out of memory";
    }
}

// [A-Za-z0-9_.-]{1,32}: a name that is safe in a log field and a label.
bool valid_rule_name(std::string_view name) {
    if (name.empty() || name.size() > 32) return false;
    for (char c : name)
        if (!name_char(c)) return false;
    return true;
}

}  // namespace

DumpPlan plan_rule_dumps(std::span<const Rule> rules, bool single_walk) {
    bool v4[kProtos] = {}, v6[kProtos] = {};
    for (const Rule& r : rules)
        for (Proto p : {Proto::Tcp, Proto::Udp}) {
            if (!r.sel.wants(p) || !r.sel.states_of(p)) continue;
            v4[static_cast<size_t>(p)] |= r.sel.ipv4;
            v6[static_cast<size_t>(p)] |= r.sel.ipv6;
        }
    DumpPlan plan;
    plan_protocol(plan, v4[0], v6[0], Proto::Tcp, single_walk);
    plan_protocol(plan, v4[1], v6[1], Proto::Udp, false);  // UDP has no single walk
    return plan;
}

bool rule_scope(const Selection& sel, const DumpScope& dump, DumpScope& out) {
    if (!sel.wants(dump.proto)) return false;
    const bool fits = dump.family == AF_UNSPEC || (dump.family == AF_INET ? sel.ipv4
                                                   : dump.v6 == V6Scope::MappedOnly ? sel.ipv4
                                                   : dump.v6 == V6Scope::NativeOnly ? sel.ipv6
                                                                                      : true);
    out = {dump.family, sel.ipv4 ? (sel.ipv6 ? V6Scope::Any : V6Scope::MappedOnly) : V6Scope::NativeOnly, dump.proto};
    return fits;
}

RulesUse rules_use(std::span<const Rule> rules) {
    RulesUse u;
    for (const Rule& r : rules) {
        const Selection& s = r.sel;
        u.tcp |= s.tcp;
        u.udp |= s.udp;
        u.ipv4 |= s.ipv4;
        u.ipv6 |= s.ipv6;
        u.src_removed |= s.src_removed;
        u.src_removed_unbounded |= s.src_removed && s.srcs.empty();
        u.read_marks |= s.owner.n_mark > 0;
        u.find_processes |= s.owner.processes() || s.ex.owner.n_comm > 0;
        (s.arm.any() ? u.arms : u.ends) = true;
        if (s.stalled_ms) u.figures |= SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv;
        if (s.send_idle_ms) u.figures |= SockRecord::kFigureSent;
    }
    return u;
}

const char* needs_restart(const RulesUse& started, const RulesUse& next) {
    if (next.read_marks && !started.read_marks) return "--mark, whose capability the run did not check";
    if (next.find_processes && !started.find_processes)
        return "--pid, --comm or --exclude-comm, whose capabilities the run did not check";
    if (next.arms && !started.arms) return "--arm-*, whose capabilities the run did not check";
    return nullptr;
}


bool RuleSet::set_single(const Selection& sel) {
    text_.clear();
    if (!rules_.resize(1)) return false;
    rules_[0] = Rule{};
    rules_[0].sel = sel;
    return true;
}

bool RuleSet::parse(std::string_view text, PodVec<RuleError>& errors) {
    rules_.clear();
    const size_t errors_before = errors.size();
    auto error = [&errors](uint32_t line, const char* message, std::string_view value) {
        RuleError e;
        e.line = line;
        const bool named = !value.empty();
        fmt(e.text, sizeof e.text, "%s%s%.*s%s", message, named ? ": '" : "",
            static_cast<int>(value.size() > 64 ? 64 : value.size()), value.data(), named ? "'" : "");
        return errors.push_back(e);
    };
    if (!text_.resize(text.size() + 1)) return error(0, "out of memory", "") && false;
    std::memcpy(text_.data(), text.data(), text.size());
    text_[text.size()] = '\0';

    PodVec<const char*> words;
    char* const end = text_.data() + text.size();
    uint32_t line = 0;
    for (char* p = text_.data(); p <= end; ++line) {
        char* eol = p;
        bool nul = false;  // a NUL would end a word early
        for (; eol < end && *eol != '\n'; ++eol) nul |= *eol == '\0';
        char* next = eol + 1;
        const uint32_t n = line + 1;
        while (p < eol && is_space(*p)) ++p;
        if (p == eol || *p == '#') {
            p = next;
            continue;
        }
        if (nul) {
            if (!error(n, "a NUL byte on the line", "")) return false;
            p = next;
            continue;
        }
        char* colon = p;
        while (colon < eol && *colon != ':' && !is_space(*colon)) ++colon;
        if (colon == eol || *colon != ':') {
            if (!error(n, "a rule is NAME: OPTIONS, and this line has no name and colon",
                       std::string_view(p, static_cast<size_t>(colon - p))))
                return false;
            p = next;
            continue;
        }
        const std::string_view name(p, static_cast<size_t>(colon - p));
        const char* why = nullptr;
        std::string_view bad = name;
        if (!valid_rule_name(name)) why = "not a rule name (1 to 32 of A-Z a-z 0-9 _ . -)";
        char twice[64];
        for (const Rule& r : rules()) {
            if (why || name != r.name) continue;
            fmt(twice, sizeof twice, "a second rule of this name (the first is on line %u)", r.line);
            why = twice;
        }
        Rule rule;
        if (!why) {
            std::memcpy(rule.name, name.data(), name.size());
            rule.line = n;
            words.clear();
            if (!words.push_back(rule.name)) return false;
            why = split_words(colon + 1, eol, words);
            bad = {};
        }
        if (!why) {
            Options o;
            why = parse_rule_words(static_cast<int>(words.size()), words.data(), o, bad);
            rule.sel = o.sel;
        }
        if (!why && rules_.size() == kMaxRules) why = "more than 64 rules";
        if (why) {
            if (!error(n, why, bad)) return false;
        } else if (!rules_.push_back(rule)) {
            return error(n, "out of memory", "") && false;
        }
        p = next;
    }
    if (errors.size() == errors_before) return true;
    rules_.clear();
    return false;
}

}  // namespace tc
