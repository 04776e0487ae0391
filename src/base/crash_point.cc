#include "base/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lifeboat {

void CrashPoint(const char* name) {
  static const char* const wanted = std::getenv("LIFEBOAT_CRASH_POINT");
  if (wanted != nullptr && std::strcmp(wanted, name) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace lifeboat
