# Install rules for weft's system integration (init script, systemd unit,
# defaults file) and the Debian package (cpack -G DEB).  Included from the
# top-level CMakeLists.txt after the plain install() rules.
#
# Where /etc and the unit directory are is decided when installing, not when
# configuring, so that any build directory packages correctly: cpack installs
# with the prefix /usr, which puts these files in /etc and
# /lib/systemd/system (Debian's layout); any other prefix P (cmake --install
# --prefix P) puts them under P/etc and P/lib/systemd/system.  The unit names
# the installed weftd (P/sbin/weftd); the init script finds /usr/sbin/weftd,
# else /usr/local/sbin/weftd, else DAEMON from the environment.

install(CODE "set(WEFT_INSTALL_SOURCE \"${PROJECT_SOURCE_DIR}\")
set(WEFT_INSTALL_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
set(WEFT_INSTALL_STAGE \"${PROJECT_BINARY_DIR}/weft-install\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_weft_etc "/etc")
    set(_weft_unitdir "/lib/systemd/system")
  else()
    set(_weft_etc "${CMAKE_INSTALL_PREFIX}/etc")
    set(_weft_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  endif()
  if(IS_ABSOLUTE "${WEFT_INSTALL_SBINDIR}")
    set(SBINDIR "${WEFT_INSTALL_SBINDIR}")
  else()
    set(SBINDIR "${CMAKE_INSTALL_PREFIX}/${WEFT_INSTALL_SBINDIR}")
  endif()
  configure_file("${WEFT_INSTALL_SOURCE}/scripts/systemd/weft@.service"
                 "${WEFT_INSTALL_STAGE}/weft@.service" @ONLY)
  file(INSTALL DESTINATION "${_weft_unitdir}" TYPE FILE
       FILES "${WEFT_INSTALL_STAGE}/weft@.service")
  file(INSTALL DESTINATION "${_weft_etc}/init.d" TYPE PROGRAM
       FILES "${WEFT_INSTALL_SOURCE}/scripts/init.d/weft")
  file(INSTALL DESTINATION "${_weft_etc}/default" TYPE FILE RENAME weft
       FILES "${WEFT_INSTALL_SOURCE}/scripts/examples/default")
  # The nameserver checker's cron entry names the program by its installed
  # path, which is known only now (a build configured with another prefix
  # still packages the right path).
  if(EXISTS "${WEFT_INSTALL_SOURCE}/cron/weft-nscheck.cron")
    set(CMAKE_INSTALL_FULL_SBINDIR "${SBINDIR}")
    configure_file("${WEFT_INSTALL_SOURCE}/cron/weft-nscheck.cron"
                   "${WEFT_INSTALL_STAGE}/weft-nscheck" @ONLY)
    file(INSTALL DESTINATION "${_weft_etc}/cron.d" TYPE FILE
         FILES "${WEFT_INSTALL_STAGE}/weft-nscheck")
  endif()
]])

# --- the Debian package
# `make install` and cpack's "preinstall" step do not build every target
# (the tests, fuzz replayers and benchmarks are not installed): build first
# (cmake --build), then install or package.  This keeps `cpack` in a tree
# whose installed programs are built from rebuilding the world.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME weft)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "mesh VPN for a fleet of servers, with a signed node list")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME weft)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "weft maintainers <weft@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The summary above is the first line; cpack indents these lines itself.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "weft gives every server a TUN interface and connects every pair of servers
directly over encrypted UDP.  Membership is one file, the bootstrap node
list, signed by the administrator with bnl-sign; nodes verify it and pass
newer lists on.  Pairs agree on ciphers and keys over mutually
authenticated TLS 1.3.

This package holds weftd, weftctl, bnl-sign, weft-ca, the nameserver
checker weft-nscheck with its cron entry, example hooks, an init script
and a systemd unit (weft@NET).  Nothing runs until a network is configured
in /etc/weft/NET, and the checker does nothing until its master list
/etc/resolv.conf-master exists.")
# dpkg-shlibdeps works offline (it reads the dpkg database), so the library
# dependencies are computed; the hooks and the init script need these too.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iproute2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openssl")
# Maintainer scripts from cmake/debian; conffiles is written when packaging
# (cmake/debian/conffiles.cmake: every file under /etc).
set(CPACK_WEFT_CONFFILES "${PROJECT_BINARY_DIR}/weft-debian/conffiles")
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/weft-debian")
file(TOUCH "${CPACK_WEFT_CONFFILES}")
set(CPACK_PRE_BUILD_SCRIPTS "${PROJECT_SOURCE_DIR}/cmake/debian/conffiles.cmake")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/cmake/debian/postinst"
    "${PROJECT_SOURCE_DIR}/cmake/debian/prerm"
    "${PROJECT_SOURCE_DIR}/cmake/debian/postrm"
    "${CPACK_WEFT_CONFFILES}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# `make package_source`: the tree without build directories and git.
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/_CPack_Packages/")
include(CPack)
