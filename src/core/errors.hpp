// Names and texts for the errnos the tool can meet, from one table: libc's
// strerror carries every errno's text (about 2 KiB of a 64 KiB budget).
// Pure.
#pragma once

namespace tc {

// "EPERM"; an errno not in the table: "E123" (written into `scratch`).
const char* errno_name(int err, char (&scratch)[16]);

// "Operation not permitted" (strerror's job); an errno not in the table:
// "error 123", in a buffer the next such call reuses.
const char* error_text(int err);

}  // namespace tc
