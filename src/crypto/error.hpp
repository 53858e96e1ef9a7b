// The error type of every fallible crypto call: what failed, in words fit for
// a log line (OpenSSL's own reason text appended where it gave one).
#pragma once

#include <string>

namespace weft::crypto { struct crypto_error { std::string message; }; }
