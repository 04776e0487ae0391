// ProgressSink: how the engine tells a front end what it is doing. The engine never prints;
// the CLI renders a bar (bytes, rows, rate, ETA) on a terminal and plain lines otherwise, and
// the server streams the same events to the web page.
//
// Thread-safety: the engine may call a sink from several worker threads; implementations
// serialise internally. Calls must be cheap (the engine calls OnProgress at most every few
// milliseconds per worker).
#pragma once

#include <cstdint>
#include <string>

namespace lifeboat {

struct Progress {
  std::string operation;     // "backup", "restore", "safety backup", "check", ...
  std::string item;          // the table or file being worked on, "" between items
  uint64_t bytes_done = 0;   // logical bytes read or written so far
  uint64_t bytes_total = 0;  // the estimate for the whole operation; 0 when unknown
  uint64_t rows_done = 0;
  uint64_t items_done = 0;  // tables and files finished
  uint64_t items_total = 0;
  int64_t elapsed_nanos = 0;
};

enum class MessageLevel { kInfo, kWarning, kError };

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnProgress(const Progress& progress) = 0;
  // A line worth showing the user: a warning about a large table, a skipped file.
  virtual void OnMessage(MessageLevel level, const std::string& text) = 0;
};

// A sink that drops everything; the default when a caller passes none.
class NullProgressSink : public ProgressSink {
 public:
  void OnProgress(const Progress&) override {}
  void OnMessage(MessageLevel, const std::string&) override {}
  static NullProgressSink* Get() {
    static NullProgressSink sink;
    return &sink;
  }
};

}  // namespace lifeboat
