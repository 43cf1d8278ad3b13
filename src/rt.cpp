// The one symbol of the C++ runtime that the static binary needs and that
// lives in libstdc++'s compiled part: the target of a call to a pure
// virtual function (which cannot happen in a correct program).
extern "C" void __cxa_pure_virtual() { __builtin_trap(); }
