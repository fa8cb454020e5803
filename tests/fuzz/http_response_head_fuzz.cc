// libFuzzer target: ParseHttpResponseHead, the collector's parser of what an
// (untrusted) agent answers before the body. Must never crash or throw; a
// parsed head has a status in 100..599 and a Content-Length within the bound,
// and every error message is one line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collector/http_fetch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t max_body : {size_t{0}, size_t{1024}, size_t{1} << 40}) {
    auto head = resmeter::ParseHttpResponseHead(text, max_body);
    if (!head.ok()) {
      if (head.status().message().find('\n') != std::string::npos) __builtin_trap();
      continue;
    }
    if (head->status < 100 || head->status > 599) __builtin_trap();
    if (head->content_length && *head->content_length > max_body) __builtin_trap();
  }
  return 0;
}
