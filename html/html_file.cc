#include "html/html_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/unique_fd.h"

namespace resmeter::html {

Status WriteHtmlFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
      return Status::InvalidArgument("--html: cannot write to standard output");
    return Status::Ok();
  }
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid())
    return Status::InvalidArgument("--html: cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      unlink(tmp.c_str());
      return Status::InvalidArgument("--html: cannot write " + tmp + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return Status::InvalidArgument("--html: cannot write " + path + ": " + why);
  }
  return Status::Ok();
}

}  // namespace resmeter::html
