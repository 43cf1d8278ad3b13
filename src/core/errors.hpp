// Names and texts for the errnos the tool can meet, from one table (libc's
// strerror would carry the text of every errno, in the C locale's words
// of whichever libc the binary was built with). Pure.
#pragma once

namespace tc {

// "EPERM", or for an errno not in the table "E123", written into `scratch`.
const char* errno_name(int err, char (&scratch)[16]);

// "Operation not permitted" (strerror's job); an errno not in the table:
// "error 123", in a buffer the next such call reuses.
const char* error_text(int err);

}  // namespace tc
