// resolv.conf as the nameserver checker sees it: a list of lines kept
// byte-for-byte, some of which are `nameserver` lines with a parsed address.
// The checker rebuilds the file from its master copy with a chosen subset of
// the nameserver lines, every other line untouched and in place.
//
// Grammar (the part glibc's resolver reads, made strict):
//  - a line ends at '\n'; the last line may lack it (kept as it is);
//  - a nameserver line starts with "nameserver" in column 0, then spaces or
//    tabs, the address, optional trailing spaces or tabs, and nothing else;
//  - the address is IPv4 (dotted quad) or IPv6 (RFC 4291 text), IPv6
//    optionally with "%scope" (an interface name or a number);
//  - every other line (comments, search, options, domain, blank lines,
//    "nameserverX", indented text) is opaque and kept as it is.
// Refused: a NUL byte anywhere, a file over max_size, a line over max_line,
// more than max_nameservers nameserver lines, a malformed nameserver line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "wire/ip.hpp"

namespace weft {

namespace resolv_conf_limits {
inline constexpr std::size_t max_size = std::size_t{64} * 1024;
// Longer than any real line (glibc's own search list is bounded well below).
inline constexpr std::size_t max_line = 4096;
// glibc uses only the first 3; a master may hold spares, but not unbounded.
inline constexpr std::size_t max_nameservers = 64;
inline constexpr std::size_t max_scope = 15;  // IFNAMSIZ - 1
}  // namespace resolv_conf_limits

struct nameserver {
    ip_address address;
    std::string scope;  // IPv6 zone ("eth0", "2"), empty if none

    // The text form as written in the file ("fe80::1%eth0"), canonical.
    std::string to_string() const;
    friend bool operator==(const nameserver&, const nameserver&) = default;
};

struct resolv_line {
    std::string raw;                   // the exact bytes, with its '\n' if it had one
    std::optional<nameserver> server;  // set for nameserver lines
    friend bool operator==(const resolv_line&, const resolv_line&) = default;
};

enum class resolv_conf_errc {
    too_large,
    line_too_long,
    nul_byte,
    bad_nameserver,  // the line says nameserver but its address is malformed
    trailing_text,   // text after the address
    too_many_nameservers,
};
const char* to_string(resolv_conf_errc e) noexcept;

struct resolv_conf_error {
    resolv_conf_errc code = resolv_conf_errc::too_large;
    std::size_t line = 0;  // 1-based; 0 for whole-file errors
    std::string message() const;
};

class resolv_conf {
  public:
    // Parses the whole file.  Returns the reason and line of the first error.
    static result<resolv_conf, resolv_conf_error> parse(std::string_view text);

    const std::vector<resolv_line>& lines() const noexcept { return lines_; }
    // The nameservers in file order (duplicates kept as listed).
    std::vector<nameserver> nameservers() const;

    // The file with only the nameserver lines whose index (into
    // nameservers(), file order) is marked true in `keep`; every other line
    // byte-for-byte in its place.  keep.size() must equal the number of
    // nameserver lines (a programmer error otherwise: aborts).
    std::string render(const std::vector<bool>& keep) const;
    // The file exactly as parsed.
    std::string render() const;

    friend bool operator==(const resolv_conf&, const resolv_conf&) = default;

  private:
    std::vector<resolv_line> lines_;
    std::size_t server_count_ = 0;
};

}  // namespace weft
