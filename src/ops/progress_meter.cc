#include "ops/progress_meter.h"

namespace lifeboat {
namespace {
constexpr int64_t kReportIntervalNanos = 100'000'000;
}

ProgressMeter::ProgressMeter(ProgressSink* sink, Clock* clock, std::string operation,
                             uint64_t bytes_total, uint64_t items_total)
    : sink_(sink ? sink : NullProgressSink::Get()), clock_(clock) {
  start_ = clock_->MonotonicNanos();
  progress_.operation = std::move(operation);
  progress_.bytes_total = bytes_total;
  progress_.items_total = items_total;
}

void ProgressMeter::StartItem(const std::string& item) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_.item = item;
  item_base_bytes_ = progress_.bytes_done;
  item_base_rows_ = progress_.rows_done;
  ReportLocked(true);
}

void ProgressMeter::Add(uint64_t bytes, uint64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_.bytes_done += bytes;
  progress_.rows_done += rows;
  ReportLocked(false);
}

void ProgressMeter::SetItemProgress(uint64_t bytes, uint64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  if (item_base_bytes_ + bytes > progress_.bytes_done) {
    progress_.bytes_done = item_base_bytes_ + bytes;
  }
  progress_.rows_done = item_base_rows_ + rows;
  ReportLocked(false);
}

void ProgressMeter::FinishItem() {
  std::lock_guard<std::mutex> lock(mu_);
  ++progress_.items_done;
  ReportLocked(true);
  progress_.item.clear();
}

void ProgressMeter::Message(MessageLevel level, const std::string& text) {
  sink_->OnMessage(level, text);
}

void ProgressMeter::ReportLocked(bool force) {
  int64_t now = clock_->MonotonicNanos();
  if (!force && now - last_report_ < kReportIntervalNanos) return;
  last_report_ = now;
  progress_.elapsed_nanos = now - start_;
  sink_->OnProgress(progress_);
}

}  // namespace lifeboat
