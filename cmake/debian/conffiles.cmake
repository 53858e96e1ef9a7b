# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) after the files are staged and
# before the .deb is built.
#
# 1. Moves what was installed under PREFIX/etc (install rules that use the
#    relative ${CMAKE_INSTALL_SYSCONFDIR}, which cpack's prefix /usr turns
#    into /usr/etc) to /etc, as GNUInstallDirs does for the prefix /usr.
# 2. Lists every regular file the package puts under
# /etc as a conffile (Debian policy 10.7.3; what dh_installdeb does), into
# the file that CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA names.  Computed rather
# than written by hand so that files other parts install there (the cron
# entry) are covered, and a file listed but not shipped cannot break dpkg-deb.
if(NOT CPACK_WEFT_CONFFILES)
  message(FATAL_ERROR "conffiles.cmake: CPACK_WEFT_CONFFILES is not set")
endif()
set(_stage "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${_stage}")
  message(FATAL_ERROR "conffiles.cmake: no staging directory '${_stage}'")
endif()
#    A file that is already in /etc (installed there on purpose, with paths
#    decided at install time) is kept, and the /usr/etc copy dropped.
if(IS_DIRECTORY "${_stage}/usr/etc")
  file(GLOB_RECURSE _moved LIST_DIRECTORIES false RELATIVE "${_stage}/usr/etc" "${_stage}/usr/etc/*")
  foreach(f IN LISTS _moved)
    if(EXISTS "${_stage}/etc/${f}")
      message(STATUS "conffiles: /etc/${f} already staged; dropping /usr/etc/${f}")
    else()
      get_filename_component(_dir "${_stage}/etc/${f}" DIRECTORY)
      file(MAKE_DIRECTORY "${_dir}")
      file(RENAME "${_stage}/usr/etc/${f}" "${_stage}/etc/${f}")
      message(STATUS "conffiles: /usr/etc/${f} moved to /etc/${f}")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${_stage}/usr/etc")
endif()
file(GLOB_RECURSE _files LIST_DIRECTORIES false RELATIVE "${_stage}" "${_stage}/etc/*")
list(SORT _files)
set(_text "")
foreach(f IN LISTS _files)
  string(APPEND _text "/${f}\n")
endforeach()
file(WRITE "${CPACK_WEFT_CONFFILES}" "${_text}")
message(STATUS "conffiles: ${_files}")
