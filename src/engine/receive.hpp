// The one receive loop: every answer the kernel gives to one request (a
// dump, a lookup, the probe) is read here, through wire/nl_conversation,
// which decides what may be believed. SOCK_DESTROY's batches take their
// acks many datagrams at a time (sock_destroy.cpp) through the same
// NlReplyIter.
#pragma once

#include <span>

#include "core/result.hpp"
#include "engine/transport.hpp"
#include "wire/nl_conversation.hpp"

namespace tc {

// Receives until the conversation's request has ended, handing each of its
// messages to `sink`. After the first failure (the sink's, or a cut or
// malformed datagram) nothing more is handed on, but the answer is still
// read to its end, so the socket is free for the next request (the kernel
// answers a second dump on a socket whose dump still runs with EBUSY); that
// failure is returned. ENOBUFS before anything of the answer came (acks of
// earlier requests dropped) is ridden out; after, the answer is incomplete.
Status receive_answer(DiagTransport& t, std::span<uint8_t> rx, NlConversation& conv, NlSink& sink);

}  // namespace tc
