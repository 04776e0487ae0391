// ProgressMeter: counts what an operation has done and reports it to a ProgressSink at most
// every 100 ms (and always when an item finishes), so hot loops can call it freely.
//
// Thread-safety: safe for concurrent use (counters are guarded by a mutex; reporting happens
// outside the hot path's contention in practice because it is throttled).
#pragma once

#include <mutex>
#include <string>

#include "base/byte_stream.h"
#include "base/clock.h"
#include "lifeboat/progress.h"

namespace lifeboat {

class ProgressMeter {
 public:
  ProgressMeter(ProgressSink* sink, Clock* clock, std::string operation, uint64_t bytes_total,
                uint64_t items_total);

  void StartItem(const std::string& item);
  void Add(uint64_t bytes, uint64_t rows);
  // Sets the byte and row counts of the current item (for sources that report totals).
  void SetItemProgress(uint64_t bytes, uint64_t rows);
  void FinishItem();
  void Message(MessageLevel level, const std::string& text);
  ProgressSink* sink() const { return sink_; }

 private:
  void ReportLocked(bool force);

  std::mutex mu_;
  ProgressSink* sink_;
  Clock* clock_;
  int64_t start_;
  int64_t last_report_ = 0;
  Progress progress_;
  uint64_t item_base_bytes_ = 0;
  uint64_t item_base_rows_ = 0;
};

// A ByteSink that forwards to another and counts bytes into a meter.
class MeteredSink : public ByteSink {
 public:
  MeteredSink(ByteSink* inner, ProgressMeter* meter) : inner_(inner), meter_(meter) {}
  Status Write(std::string_view data) override {
    meter_->Add(data.size(), 0);
    return inner_->Write(data);
  }

 private:
  ByteSink* inner_;
  ProgressMeter* meter_;
};

}  // namespace lifeboat
