#pragma once
// Text that goes into the run report's HTML: everything read from a run
// folder is escaped, and pictures travel inside the page as data: URIs, so
// the file is readable on its own (mailed, attached to a ticket) with no
// network and no files beside it.
#include <string>
#include <string_view>

namespace medtrain::report {

// `text` safe as HTML element content and as a quoted attribute value: & < >
// " ' become character references; NUL (which HTML parsers drop or refuse)
// becomes U+FFFD. Other bytes are kept as they are (the page is UTF-8).
std::string html_escape(std::string_view text);

// Standard base64 (RFC 4648, with '=' padding, no line breaks) through
// OpenSSL's EVP_EncodeBlock.
std::string base64_encode(std::string_view bytes);

// "data:image/png;base64,..." for the PNG file bytes `png`.
std::string png_data_uri(std::string_view png);

}  // namespace medtrain::report
