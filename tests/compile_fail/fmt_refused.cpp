// Formats fmt() must refuse at compile time: `make compile-fail` compiles
// this file once per CASE and expects every CASE but 0 to fail (CASE 0, the
// same calls done right, must compile: the check is not refusing
// everything).
#include <cstddef>
#include <cstdint>

#include "core/fmt.hpp"

#ifndef CASE
#define CASE 0
#endif

int main() {
    char b[64];
    const char* s = "x";
    int i = 1;
    unsigned long long big = 1;
    double d = 1.5;
    (void)s, (void)i, (void)big, (void)d;
#if CASE == 0
    tc::fmt(b, sizeof b, "%s %d %llu %c %X %p %.*s %%", s, i, big, 'c', 7u, static_cast<const void*>(s), 1, s);
#elif CASE == 1
    tc::fmt(b, sizeof b, "%f", d);  // floating point: not implemented
#elif CASE == 2
    tc::fmt(b, sizeof b, "%d", big);  // 8 bytes where 4 are read
#elif CASE == 3
    tc::fmt(b, sizeof b, "%s", i);  // a number where a string is read
#elif CASE == 4
    tc::fmt(b, sizeof b, "%d %d", i);  // one argument short
#elif CASE == 5
    tc::fmt(b, sizeof b, "%d", i, i);  // one argument too many
#elif CASE == 6
    tc::fmt(b, sizeof b, "%+d", i);  // a flag fmt does not know
#elif CASE == 7
    tc::fmt(b, sizeof b, "%hd", i);  // a length modifier fmt does not know
#elif CASE == 8
    tc::fmt(b, sizeof b, "%o", 8u);  // octal: not implemented
#elif CASE == 9
    tc::fmt(b, sizeof b, "%n", &i);  // never
#elif CASE == 10
    tc::fmt(b, sizeof b, i ? "%d" : "%u", i);  // not a literal: cannot be checked
#elif CASE == 11
    tc::Appender a(b, sizeof b);
    a.add("%s", d);  // Appender::add is checked too
#elif CASE == 12
    tc::fmt(b, sizeof b, "%", i);  // a cut conversion
#endif
    return 0;
}
