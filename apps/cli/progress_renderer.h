// ProgressRenderer: shows the engine's progress on stderr. On a terminal, one line redrawn in
// place: a bar, bytes done of the estimate, rows, rate and ETA, and the current table or
// file. Elsewhere (logs, CI), a plain line when an item finishes and every few seconds.
#pragma once

#include <cstdio>
#include <mutex>

#include "lifeboat/progress.h"

namespace lifeboat::cli {

class ProgressRenderer : public ProgressSink {
 public:
  ProgressRenderer(FILE* out, bool quiet);
  ~ProgressRenderer() override;
  void OnProgress(const Progress& progress) override;
  void OnMessage(MessageLevel level, const std::string& text) override;
  // Clears the bar (call before printing results).
  void Finish();

 private:
  void ClearLine();

  std::mutex mu_;
  FILE* out_;
  bool terminal_;
  bool quiet_;
  bool bar_shown_ = false;
  int64_t last_plain_nanos_ = 0;
  uint64_t last_items_done_ = 0;
};

}  // namespace lifeboat::cli
