# weft_target_warnings(TARGET): the warning set every weft target builds with.
function(weft_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    -Wformat=2)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wduplicated-cond -Wlogical-op)
    # GCC 12 at -O2 reports impossible overflows inside libstdc++'s own
    # vector/string copies (GCC bugs 105329, 105651, 106199), and a mismatched
    # delete in coroutine frames with a class allocator (Asio): off for 12 only.
    if(CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12 AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-stringop-overflow -Wno-restrict -Wno-array-bounds
        -Wno-mismatched-new-delete -Wno-stringop-overread)
    endif()
  endif()
  if(WEFT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# weft_module(NAME DEPS...): a library from every .cpp in the current folder.
# One folder is one module; what it may use is exactly what it links.
function(weft_module name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(${name} STATIC ${srcs})
  # Calls into shared libraries (libc, libsodium, libcrypto) through the GOT,
  # not PLT stubs: the stubs spread over pages of their own, and each code
  # page is a cold-page walk for a packet that wakes an idle node (HOWTO,
  # performance section, "The event loop").
  target_compile_options(${name} PRIVATE -fno-plt)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARGN})
  weft_target_warnings(${name})
endfunction()
