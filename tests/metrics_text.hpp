// The sample lines of a Prometheus text exposition, for the tests that read
// the metrics writer's output (unit) and the daemon's file (integration).
#pragma once

#include <map>
#include <sstream>
#include <string>

namespace tc_test {

// Every sample line as name{labels} -> value (comments and blank lines
// skipped; a line without a value maps to "").
inline std::map<std::string, std::string> metric_samples(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const size_t sp = line.rfind(' ');
        if (sp == std::string::npos) out[line] = "";
        else out[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return out;
}

}  // namespace tc_test
