#include "io/log.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <ctime>
#include <stdexcept>

namespace weft::io {

std::optional<log_level> parse_log_level(std::string_view name) noexcept {
    if (name == "debug") return log_level::debug;
    if (name == "info") return log_level::info;
    if (name == "notice") return log_level::notice;
    if (name == "warning" || name == "warn") return log_level::warning;
    if (name == "error") return log_level::error;
    return std::nullopt;
}

const char* to_string(log_level l) noexcept {
    switch (l) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::notice: return "notice";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
    }
    return "?";
}

logger::logger(std::string_view target, log_level threshold, std::string ident)
    : sink_(target == "syslog" ? sink::syslog : sink::stream), threshold_(threshold), ident_(std::move(ident)) {
    if (sink_ == sink::syslog) {
        ::openlog(ident_.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
    } else if (target == "stderr") {
        file_ = stderr;
    } else {
        std::string path(target);
        int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) throw std::runtime_error("cannot open log file " + path);
        file_ = ::fdopen(fd, "a");
        if (!file_) {
            ::close(fd);
            throw std::runtime_error("cannot open log file " + path);
        }
        owns_file_ = true;
    }
}

logger::~logger() {
    if (sink_ == sink::syslog) ::closelog();
    if (owns_file_ && file_) std::fclose(file_);
}

void logger::write(log_level l, std::string_view message) noexcept {
    if (!enabled(l)) return;
    if (sink_ == sink::syslog) {
        ::syslog(static_cast<int>(l), "%s%.*s", prefix_.c_str(), static_cast<int>(message.size()), message.data());
        return;
    }
    char stamp[32];
    std::time_t now = std::time(nullptr);
    struct tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    // One fprintf per line: lines from threads do not interleave mid-line.
    std::fprintf(file_, "%s %s[%d] %s: %s%.*s\n", stamp, ident_.c_str(), static_cast<int>(::getpid()),
                 to_string(l), prefix_.c_str(), static_cast<int>(message.size()), message.data());
    std::fflush(file_);
}

}  // namespace weft::io
