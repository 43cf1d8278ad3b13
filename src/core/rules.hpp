// Rules (--rules FILE): a name and a selection each, in the file's order.
// A socket belongs to the first rule whose every condition holds; without
// --rules the command line's selection is the one rule, without a name.
// Pure: the caller reads the file and hands over its text.
//
// The file holds one rule a line, "NAME: OPTIONS", the options spelled as
// on the command line, split into words the way a shell would: 'single'
// and "double" quotes, a backslash for the next character, and a '#' that
// starts an unquoted word comments out the rest of the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/pod_vec.hpp"
#include "core/selection.hpp"

namespace tc {

struct Rule {
    char name[33] = "";  // [A-Za-z0-9_.-]{1,32}; "" for the command line's selection
    uint32_t line = 0;   // in the file (0: the command line)
    Selection sel;
};

// A socket's candidate rules are one 64-bit mask in the engine.
constexpr size_t kMaxRules = 64;

struct RuleError {
    uint32_t line = 0;
    char text[192] = "";  // what is wrong, and the word it is about
};

class RuleSet {
public:
    std::span<const Rule> rules() const { return {rules_.data(), rules_.size()}; }
    size_t size() const { return rules_.size(); }
    // Each rule's mutable selection (the owner names are resolved in place).
    std::span<Rule> rules() { return {rules_.data(), rules_.size()}; }

    // The command line's selection as the one rule without a name.
    [[nodiscard]] bool set_single(const Selection& sel);
    // Parses a rules file's text (copied: the rules' strings point into the
    // copy). Every error found is added to `errors`; with any, the set is
    // left empty. False also when memory ran out (an error says so).
    [[nodiscard]] bool parse(std::string_view text, PodVec<RuleError>& errors);

    void swap(RuleSet& other) {
        text_.swap(other.text_);
        rules_.swap(other.rules_);
    }

private:
    PodVec<char> text_;  // the file, its words unquoted in place
    PodVec<Rule> rules_;
};

// The dumps one poll makes for all of `rules`: each protocol and family
// that some rule wants (plan_dumps of their union).
DumpPlan plan_rule_dumps(std::span<const Rule> rules, bool single_walk);

// The scope a rule checks the sockets of `dump` against: the dump's family
// and protocol with the rule's own IPv4/IPv6 choice (the dump may hold
// more, for other rules). False when no socket of `dump` can match it.
bool rule_scope(const Selection& sel, const DumpScope& dump, DumpScope& out);

// What the rules in force ask of the run as a whole: which protocols and
// families to set up, the route dumps, the capabilities, the log's fields.
struct RulesUse {
    bool tcp = false, udp = false, ipv4 = false, ipv6 = false;
    bool src_removed = false;
    bool src_removed_unbounded = false;  // some --src-removed rule without --src
    bool read_marks = false;             // --mark
    bool find_processes = false;         // --pid, --comm, --exclude-comm
    bool arms = false;                   // --arm-*
    bool ends = false;                   // a rule without --arm-*
    uint8_t figures = 0;                 // SockRecord::kFigure* the rules read (--stalled, --send_idle)
};
RulesUse rules_use(std::span<const Rule> rules);
// A reload may not ask for what needs a capability the run did not check
// at its start (--rules sets up both protocols, both families and the
// route dumps from the start): what a rule asks for, or nullptr.
const char* needs_restart(const RulesUse& started, const RulesUse& next);

}  // namespace tc
