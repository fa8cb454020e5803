# Install rules and the Debian package (CPack DEB). Included from the top
# CMakeLists.txt. `bash scripts/package.sh` builds the binary and the docs,
# runs cpack and lintian; `cmake --install build --prefix /usr` installs the
# same tree by hand.
#
# Two packages (Debian paths; /etc and /lib are absolute, the rest under the prefix):
# resmeter-verify (component verify): what a buyer needs to verify reports,
# ledgers and evidence; no service, no chrony, no hwloc/liburing/tss2-esys.
#   /usr/bin/resmeter-verify                  verify, ledger audit, evidence verify, key, peer
#   /etc/resmeter/trust-anchors/*.pem         AMD/Intel roots (conffiles; evidence.trust_anchors_dir)
#   /usr/share/man/man1/resmeter-verify.1.gz  the resmeter page (same subcommands)
#   /usr/share/doc/resmeter-verify/           README.md, policies/, copyright, changelog.Debian.gz
# resmeter (component agent): the agent on the provider's VM.
#   /usr/bin/resmeter                         the whole program (agent, probe, and the buyer's commands)
#   /usr/share/man/man1/resmeter.1.gz, /usr/share/bash-completion/completions/resmeter
#   /etc/resmeter/resmeter.yaml               default config (conffile)
#   /lib/systemd/system/resmeter.service      the hardened unit (not enabled on install)
#   /usr/share/doc/resmeter/                  README.md, copyright, changelog.Debian.gz

# Installing only what was built: cpack must not build every test target first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(RESMETER_DEB_REVISION 1)

# Compressed docs (gzip -9n: reproducible, as lintian expects), built by the
# resmeter_docs target (part of every full build; scripts/package.sh builds it
# next to the binary).
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
add_custom_target(resmeter_docs ALL DEPENDS ${resmeter_man_gz} ${resmeter_changelog_gz})

# resmeter-verify
install(TARGETS resmeter-verify RUNTIME DESTINATION bin COMPONENT verify)
file(GLOB resmeter_anchor_pems ${CMAKE_SOURCE_DIR}/configs/trust-anchors/*.pem)
install(FILES ${resmeter_anchor_pems} DESTINATION /etc/resmeter/trust-anchors COMPONENT verify)
install(FILES ${resmeter_man_gz} DESTINATION share/man/man1 RENAME resmeter-verify.1.gz COMPONENT verify)
file(GLOB resmeter_policies ${CMAKE_SOURCE_DIR}/configs/policies/*.yaml)
install(FILES ${resmeter_policies} DESTINATION share/doc/resmeter-verify/policies COMPONENT verify)
install(FILES ${CMAKE_SOURCE_DIR}/configs/trust-anchors/README.md DESTINATION share/doc/resmeter-verify
        RENAME trust-anchors.md COMPONENT verify)
# resmeter
install(TARGETS resmeter RUNTIME DESTINATION bin COMPONENT agent)
install(FILES ${resmeter_man_gz} DESTINATION share/man/man1 COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/bash-completion/resmeter DESTINATION share/bash-completion/completions
        COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/configs/resmeter.yaml DESTINATION /etc/resmeter COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/configs/resmeter.service DESTINATION /lib/systemd/system COMPONENT agent)
# Both: README, copyright and changelog in each package's doc directory.
foreach(component IN ITEMS verify agent)
  if(component STREQUAL "verify")
    set(doc_dir share/doc/resmeter-verify)
  else()
    set(doc_dir share/doc/resmeter)
  endif()
  install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/packaging/debian/copyright ${resmeter_changelog_gz}
          DESTINATION ${doc_dir} COMPONENT ${component})
endforeach()

# dpkg conffiles (kept on upgrade when edited): the trust anchors in
# resmeter-verify, the config in resmeter.
set(resmeter_verify_conffiles "")
foreach(pem IN LISTS resmeter_anchor_pems)
  get_filename_component(pem_name ${pem} NAME)
  string(APPEND resmeter_verify_conffiles "/etc/resmeter/trust-anchors/${pem_name}\n")
endforeach()
file(MAKE_DIRECTORY ${resmeter_pkg_dir}/verify ${resmeter_pkg_dir}/agent)
file(WRITE ${resmeter_pkg_dir}/verify/conffiles ${resmeter_verify_conffiles})
file(WRITE ${resmeter_pkg_dir}/agent/conffiles "/etc/resmeter/resmeter.yaml\n")
foreach(script postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/${script} ${resmeter_pkg_dir}/agent/${script} COPYONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME resmeter)
set(CPACK_PACKAGE_VENDOR "resmeter authors")
set(CPACK_PACKAGE_CONTACT "resmeter maintainers <resmeter@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL verify agent)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${RESMETER_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(resmeter_deb_version ${PROJECT_VERSION}-${RESMETER_DEB_REVISION})

# CPack writes the summary as the synopsis and indents the description's
# lines; an empty line becomes the " ." paragraph separator.
set(CPACK_DEBIAN_VERIFY_PACKAGE_NAME resmeter-verify)
set(CPACK_DEBIAN_VERIFY_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_VERIFY_PACKAGE_RECOMMENDS "pci.ids")
set(CPACK_DEBIAN_VERIFY_PACKAGE_CONTROL_EXTRA ${resmeter_pkg_dir}/verify/conffiles)
set(CPACK_COMPONENT_VERIFY_DESCRIPTION "verify resmeter reports, usage ledgers and hardware evidence
resmeter-verify is what a buyer needs to check the signed reports
(resmeter-verify verify), usage ledgers (resmeter-verify ledger audit) and
SEV-SNP, TDX or TPM 2.0 evidence (resmeter-verify evidence verify) of a VM
running resmeter, and to serve co-signed network measurements
(resmeter-verify peer). It runs no meters and needs neither hwloc, liburing
nor the TPM's ESAPI. Includes the AMD and Intel root certificates.

Install the resmeter package on the VM to be measured.")
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME resmeter)
set(CPACK_DEBIAN_AGENT_PACKAGE_SHLIBDEPS ON)
# The unit joins chrony's group to ask chronyd for the time (time trust).
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "resmeter-verify (= ${resmeter_deb_version}), chrony")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${resmeter_pkg_dir}/agent/conffiles ${resmeter_pkg_dir}/agent/postinst ${resmeter_pkg_dir}/agent/prerm
    ${resmeter_pkg_dir}/agent/postrm)
set(CPACK_COMPONENT_AGENT_DESCRIPTION "measure and sign the resources a VM really gets
resmeter runs inside a rented virtual machine and measures what the host
really delivers: CPU topology, time and frequency, memory capacity,
bandwidth and latency, caches, disk I/O, network throughput to peers and
GPUs. Every result is signed in a report (JWS) bound to hardware evidence
(SEV-SNP, TDX or TPM 2.0) and trusted time from chronyd.

This package holds the resmeter program, the agent service (a hardened
systemd unit, not enabled on install) and its configuration.")
include(CPack)
