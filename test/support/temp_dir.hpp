// A fresh directory under the system temp dir for one test, removed with
// everything in it afterwards.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <system_error>

namespace weft::test {

struct temp_dir {
    std::filesystem::path path;
    // `prefix` names the test in the directory's name (weft-PREFIX-XXXXXX).
    explicit temp_dir(const std::string& prefix) {
        std::string tmpl = (std::filesystem::temp_directory_path() / ("weft-" + prefix + "-XXXXXX")).string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace weft::test
