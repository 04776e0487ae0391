// CrashPoint: a named place where the crash tests stop Lifeboat on purpose, at a moment a
// timed kill would rarely hit (between a database commit and the files swap, say).
//
// When the environment variable LIFEBOAT_CRASH_POINT equals `name`, the process kills itself
// there with SIGKILL, as a power cut or the OOM killer would stop it: no destructor, no
// flush. Otherwise it does nothing (the variable is read once per process).
//
// Thread-safety: may be called from any thread.
#pragma once

namespace lifeboat {

void CrashPoint(const char* name);

}  // namespace lifeboat
