// CivetwebOpenSsl3Shim: makes Debian 12's civetweb 1.15 TLS usable with
// OpenSSL 3.
//
// That civetweb loads libssl at run time (dlopen "libssl.so") and looks up
// each function it needs by name into a table of pointers. OpenSSL 3 no
// longer exports SSL_get_peer_certificate (it became a macro for
// SSL_get1_peer_certificate), so the table keeps a null pointer there and
// civetweb calls it for every TLS connection: SIGSEGV in a worker. This shim
// finds that one table entry inside libcivetweb's writable data (the entry
// whose name pointer points at the string "SSL_get_peer_certificate" in the
// library) and, only if its function pointer is still null, points it at
// SSL_get1_peer_certificate (the same contract: a new reference the caller
// frees). Nothing else is touched; when the layout is not recognised the
// shim changes nothing and says why, and TLS stays off.
//
// Call after mg_init_library(MG_FEATURES_TLS) and before mg_start; idempotent.
// Not thread-safe against running civetweb workers (call it before they start).
#pragma once

#include "core/status.h"

namespace resmeter {

// Ok when civetweb's table has a usable SSL_get_peer_certificate (patched now
// or already); FailedPrecondition-style IOError with the reason otherwise.
Status PatchCivetwebForOpenSsl3();

}  // namespace resmeter
