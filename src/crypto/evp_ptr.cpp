#include "crypto/evp_ptr.hpp"

#include <openssl/err.h>

namespace weft::crypto {

std::string openssl_error_string(const char* fallback) {
    unsigned long code = ERR_get_error();
    std::string out;
    if (code == 0) {
        out = fallback;
    } else {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        out = buf;
    }
    ERR_clear_error();
    return out;
}

}  // namespace weft::crypto
