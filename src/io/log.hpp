// Logging with syslog's levels (the design's debug .. error, plus notice,
// which refusals of peers are logged at).  One logger per daemon, passed to
// the components that log (no global).  Sinks: syslog, stderr, or a file.
// Formatting happens only when the level is enabled.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace weft::io {

enum class log_level : int { debug = 7, info = 6, notice = 5, warning = 4, error = 3 };

std::optional<log_level> parse_log_level(std::string_view name) noexcept;
const char* to_string(log_level l) noexcept;

class logger {
public:
    // target: "syslog", "stderr", or a file path (appended to, created 0640).
    // Throws std::runtime_error if the file cannot be opened.
    logger(std::string_view target, log_level threshold, std::string ident = "weftd");
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    bool enabled(log_level l) const noexcept { return static_cast<int>(l) <= static_cast<int>(threshold_); }
    void set_threshold(log_level l) noexcept { threshold_ = l; }
    // A prefix for every line (e.g. the node name in multi-node tests).
    void set_prefix(std::string p) { prefix_ = std::move(p); }

    void write(log_level l, std::string_view message) noexcept;

    template <class... A>
    void log(log_level l, fmt::format_string<A...> f, A&&... args) noexcept {
        if (!enabled(l)) return;
        try {
            write(l, fmt::format(f, std::forward<A>(args)...));
        } catch (...) {
            write(l, "(log message could not be formatted)");
        }
    }
    template <class... A> void debug(fmt::format_string<A...> f, A&&... a) noexcept { log(log_level::debug, f, std::forward<A>(a)...); }
    template <class... A> void info(fmt::format_string<A...> f, A&&... a) noexcept { log(log_level::info, f, std::forward<A>(a)...); }
    template <class... A> void notice(fmt::format_string<A...> f, A&&... a) noexcept { log(log_level::notice, f, std::forward<A>(a)...); }
    template <class... A> void warning(fmt::format_string<A...> f, A&&... a) noexcept { log(log_level::warning, f, std::forward<A>(a)...); }
    template <class... A> void error(fmt::format_string<A...> f, A&&... a) noexcept { log(log_level::error, f, std::forward<A>(a)...); }

private:
    enum class sink { syslog, stream };
    sink sink_;
    std::FILE* file_ = nullptr;  // stderr or an owned file
    bool owns_file_ = false;
    log_level threshold_;
    std::string ident_;
    std::string prefix_;
};

}  // namespace weft::io
