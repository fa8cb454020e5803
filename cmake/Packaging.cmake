# Install rules and the Debian package (CPack DEB). Included from the top
# CMakeLists.txt. `bash scripts/package.sh` builds the binary and the docs,
# runs cpack and lintian; `cmake --install build --prefix /usr` installs the
# same tree by hand.
#
# Layout (Debian paths; /etc and /lib are absolute, the rest under the prefix):
#   /usr/bin/resmeter                         the one binary (agent, verifier, peer)
#   /etc/resmeter/resmeter.yaml               default config (conffile)
#   /etc/resmeter/trust-anchors/*.pem         AMD/Intel roots (conffiles; evidence.trust_anchors_dir)
#   /lib/systemd/system/resmeter.service      the hardened unit (not enabled on install)
#   /usr/share/man/man1/resmeter.1.gz         man page
#   /usr/share/bash-completion/completions/resmeter
#   /usr/share/doc/resmeter/                  README.md, policies/, copyright, changelog.Debian.gz

# Installing only what was built: cpack must not build every test target first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(RESMETER_DEB_REVISION 1)
set(RESMETER_DOC_DIR share/doc/resmeter)

# Compressed docs (gzip -9n: reproducible, as lintian expects), built by the
# resmeter_docs target, which scripts/package.sh builds next to the binary.
find_program(GZIP_EXECUTABLE gzip REQUIRED)
set(resmeter_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
set(resmeter_man_gz ${resmeter_pkg_dir}/resmeter.1.gz)
set(resmeter_changelog_gz ${resmeter_pkg_dir}/changelog.Debian.gz)
add_custom_command(
  OUTPUT ${resmeter_man_gz} ${resmeter_changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/packaging/man/resmeter.1 ${resmeter_pkg_dir}/resmeter.1
  COMMAND ${GZIP_EXECUTABLE} -9nf ${resmeter_pkg_dir}/resmeter.1
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/packaging/debian/changelog ${resmeter_pkg_dir}/changelog.Debian
  COMMAND ${GZIP_EXECUTABLE} -9nf ${resmeter_pkg_dir}/changelog.Debian
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/man/resmeter.1 ${CMAKE_SOURCE_DIR}/packaging/debian/changelog
  COMMENT "Compressing the man page and the Debian changelog"
  VERBATIM)
add_custom_target(resmeter_docs DEPENDS ${resmeter_man_gz} ${resmeter_changelog_gz})

install(TARGETS resmeter RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/configs/resmeter.yaml DESTINATION /etc/resmeter PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(GLOB resmeter_anchor_pems ${CMAKE_SOURCE_DIR}/configs/trust-anchors/*.pem)
install(FILES ${resmeter_anchor_pems} DESTINATION /etc/resmeter/trust-anchors)
install(FILES ${CMAKE_SOURCE_DIR}/configs/resmeter.service DESTINATION /lib/systemd/system)
install(FILES ${resmeter_man_gz} DESTINATION share/man/man1 OPTIONAL)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/bash-completion/resmeter DESTINATION share/bash-completion/completions)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/packaging/debian/copyright
        ${resmeter_changelog_gz} DESTINATION ${RESMETER_DOC_DIR} OPTIONAL)
install(FILES ${CMAKE_SOURCE_DIR}/configs/trust-anchors/README.md DESTINATION ${RESMETER_DOC_DIR} RENAME trust-anchors.md)
file(GLOB resmeter_policies ${CMAKE_SOURCE_DIR}/configs/policies/*.yaml)
install(FILES ${resmeter_policies} DESTINATION ${RESMETER_DOC_DIR}/policies)

# dpkg conffiles: the config and the trust anchors (kept on upgrade when edited).
set(resmeter_conffiles "/etc/resmeter/resmeter.yaml\n")
foreach(pem IN LISTS resmeter_anchor_pems)
  get_filename_component(pem_name ${pem} NAME)
  string(APPEND resmeter_conffiles "/etc/resmeter/trust-anchors/${pem_name}\n")
endforeach()
file(WRITE ${resmeter_pkg_dir}/conffiles ${resmeter_conffiles})
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/${script} ${resmeter_pkg_dir}/${script} COPYONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME resmeter)
set(CPACK_PACKAGE_VENDOR "resmeter authors")
set(CPACK_PACKAGE_CONTACT "resmeter maintainers <resmeter@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "measure and sign the resources a VM really gets")
# CPack writes the summary as the synopsis and indents these lines; an empty
# line becomes the " ." paragraph separator.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "resmeter runs inside a rented virtual machine and measures what the host
really delivers: CPU topology, time and frequency, memory capacity,
bandwidth and latency, caches, disk I/O, network throughput to peers and
GPUs. Every result is signed in a report (JWS) bound to hardware evidence
(SEV-SNP, TDX or TPM 2.0) and trusted time from chronyd.

The same binary verifies reports (resmeter verify), audits usage ledgers
and serves co-signed network measurements (resmeter peer).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${RESMETER_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The unit joins chrony's group to ask chronyd for the time (time trust).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "chrony")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pci.ids")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${resmeter_pkg_dir}/conffiles ${resmeter_pkg_dir}/postinst ${resmeter_pkg_dir}/prerm ${resmeter_pkg_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
