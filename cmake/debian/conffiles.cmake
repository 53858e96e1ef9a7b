# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) after the files are staged and
# before the .deb is built.
#
# Lists every regular file the package puts under /etc as a conffile
# (Debian policy 10.7.3; what dh_installdeb does), into the file that
# CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA names.  Computed rather than written by
# hand so that every file installed there (init script, defaults, cron
# entry) is covered, and a file listed but not shipped cannot break
# dpkg-deb.  Nothing may be staged under /usr/etc: every install rule for
# /etc is in cmake/packaging.cmake and names /etc for the prefix /usr.
if(NOT CPACK_WEFT_CONFFILES)
  message(FATAL_ERROR "conffiles.cmake: CPACK_WEFT_CONFFILES is not set")
endif()
set(_stage "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${_stage}")
  message(FATAL_ERROR "conffiles.cmake: no staging directory '${_stage}'")
endif()
if(IS_DIRECTORY "${_stage}/usr/etc")
  message(FATAL_ERROR "conffiles.cmake: files staged under /usr/etc (an install rule uses the relative "
                      "CMAKE_INSTALL_SYSCONFDIR; install /etc files from cmake/packaging.cmake)")
endif()
file(GLOB_RECURSE _files LIST_DIRECTORIES false RELATIVE "${_stage}" "${_stage}/etc/*")
list(SORT _files)
set(_text "")
foreach(f IN LISTS _files)
  string(APPEND _text "/${f}\n")
endforeach()
file(WRITE "${CPACK_WEFT_CONFFILES}" "${_text}")
message(STATUS "conffiles: ${_files}")
