#include "common/input_file.h"

#include <sys/stat.h>

#include "common/errors.h"

namespace seqattr {

void require_regular_file(const std::string& option, const std::string& path) {
  struct stat info {};
  if (path.empty() || stat(path.c_str(), &info) != 0 || S_ISREG(info.st_mode)) return;
  if (S_ISDIR(info.st_mode)) throw InputError(option + " '" + path + "': is a directory");
  throw InputError(option + " '" + path + "': not a regular file (a pipe, FIFO or device); " +
                   "it is read more than once, so give a file");
}

}  // namespace seqattr
