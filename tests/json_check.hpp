// A strict parser for the flat JSON objects tcp_closer writes (string,
// number, true/false/null values), for the tests: a line that is not valid
// JSON fails here as it would in any JSON parser.
#pragma once

#include <cctype>
#include <map>
#include <string>

namespace testutil {

using JsonObject = std::map<std::string, std::string>;  // key -> decoded string, or the literal text

namespace json_detail {

inline void ws(const std::string& s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

inline bool string(const std::string& s, size_t& i, std::string& out) {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    out.clear();
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i++]);
        if (c == '"') return true;
        if (c < 0x20) return false;  // raw control characters are not allowed
        if (c != '\\') {
            out += static_cast<char>(c);
            continue;
        }
        if (i >= s.size()) return false;
        char e = s[i++];
        switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                if (i + 4 > s.size()) return false;
                unsigned v = 0;
                for (int k = 0; k < 4; ++k) {
                    char h = s[i++];
                    if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
                    v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                }
                if (v < 0x80) {
                    out += static_cast<char>(v);
                } else if (v < 0x800) {
                    out += static_cast<char>(0xc0 | (v >> 6));
                    out += static_cast<char>(0x80 | (v & 0x3f));
                } else {
                    out += static_cast<char>(0xe0 | (v >> 12));
                    out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
                    out += static_cast<char>(0x80 | (v & 0x3f));
                }
                break;
            }
            default: return false;
        }
    }
    return false;
}

inline bool number(const std::string& s, size_t& i, std::string& out) {
    size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    if (s[i] == '0') {
        ++i;
    } else {
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    out = s.substr(start, i - start);
    return true;
}

}  // namespace json_detail

// Parses one object that fills the whole text (surrounding white space allowed).
inline bool parse_json_object(const std::string& s, JsonObject& obj) {
    using namespace json_detail;
    obj.clear();
    size_t i = 0;
    ws(s, i);
    if (i >= s.size() || s[i++] != '{') return false;
    ws(s, i);
    if (i < s.size() && s[i] == '}') {
        ++i;
    } else {
        while (true) {
            ws(s, i);
            std::string key, value;
            if (!string(s, i, key)) return false;
            ws(s, i);
            if (i >= s.size() || s[i++] != ':') return false;
            ws(s, i);
            if (i < s.size() && s[i] == '"') {
                if (!string(s, i, value)) return false;
            } else if (s.compare(i, 4, "true") == 0 || s.compare(i, 4, "null") == 0) {
                value = s.substr(i, 4);
                i += 4;
            } else if (s.compare(i, 5, "false") == 0) {
                value = "false";
                i += 5;
            } else if (!number(s, i, value)) {
                return false;
            }
            if (obj.count(key)) return false;  // a duplicate key is a bug in the writer
            obj[key] = value;
            ws(s, i);
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            if (i < s.size() && s[i] == '}') {
                ++i;
                break;
            }
            return false;
        }
    }
    ws(s, i);
    return i == s.size();
}

}  // namespace testutil
