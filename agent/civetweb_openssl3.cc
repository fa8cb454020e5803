#include "agent/civetweb_openssl3.h"

#include <link.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace resmeter {
namespace {

constexpr char kMissing[] = "SSL_get_peer_certificate";

struct Segment {
  uintptr_t start;
  uintptr_t end;
  bool writable;
};

struct Library {
  bool found = false;
  std::vector<Segment> segments;
};

int FindCivetweb(dl_phdr_info* info, size_t, void* arg) {
  auto* lib = static_cast<Library*>(arg);
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libcivetweb")) return 0;
  lib->found = true;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    lib->segments.push_back(
        {info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz, (ph.p_flags & PF_W) != 0});
  }
  return 1;
}

bool Inside(const Library& lib, uintptr_t p) {
  for (const auto& s : lib.segments) {
    if (p >= s.start && p < s.end) return true;
  }
  return false;
}

// OpenSSL 1.1's SSL_get_peer_certificate: the peer's certificate with a new reference.
X509* GetPeerCertificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }

}  // namespace

Status PatchCivetwebForOpenSsl3() {
  Library lib;
  dl_iterate_phdr(&FindCivetweb, &lib);
  if (!lib.found) return Status::Ok();  // statically linked or another server: nothing to do
  // The string "SSL_get_peer_certificate\0", preceded by a NUL (a whole string), in a read-only segment.
  uintptr_t name = 0;
  for (const auto& s : lib.segments) {
    if (s.writable || name) continue;
    const char* begin = reinterpret_cast<const char*>(s.start);
    const size_t size = s.end - s.start;
    for (size_t i = 1; i + sizeof kMissing <= size; ++i) {
      if (begin[i - 1] == '\0' && std::memcmp(begin + i, kMissing, sizeof kMissing) == 0) {
        name = s.start + i;
        break;
      }
    }
  }
  if (!name) return Status::Ok();  // this civetweb does not look the function up by name
  // The table entry {name, [int required,] fn} whose name pointer is that string.
  for (const auto& s : lib.segments) {
    if (!s.writable) continue;
    for (uintptr_t p = (s.start + 7) & ~uintptr_t{7}; p + 32 <= s.end; p += 8) {
      if (*reinterpret_cast<const uintptr_t*>(p) != name) continue;
      auto slot = [&](int k) { return reinterpret_cast<uintptr_t*>(p + 8 * k); };
      // Layout {name, fn}: the next entry's name follows at +16; {name, required, fn}: at +24.
      uintptr_t* fn = nullptr;
      uintptr_t* next_fn = nullptr;  // the next entry's function: non-null once civetweb loaded libssl
      if (Inside(lib, *slot(2))) {
        fn = slot(1);
        next_fn = slot(3);
      } else if (Inside(lib, *slot(3)) && *slot(1) <= 1) {
        fn = slot(2);
        next_fn = slot(5);
      }
      if (!fn)
        return Status::IOError("civetweb's TLS function table has an unknown layout; TLS is unavailable");
      if (*next_fn == 0) {
        return Status::IOError(
            "civetweb has not loaded OpenSSL (it dlopens libssl.so: install libssl-dev); TLS is unavailable");
      }
      if (*fn == 0) *fn = reinterpret_cast<uintptr_t>(&GetPeerCertificate);
      return Status::Ok();
    }
  }
  return Status::IOError(
      "civetweb has not loaded its TLS functions (libssl.so missing? install libssl-dev); TLS is "
      "unavailable");
}

}  // namespace resmeter
