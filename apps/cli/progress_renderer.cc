#include "progress_renderer.h"

#include <cinttypes>
#include <cmath>
#include <string>

#include "base/units.h"
#include "terminal.h"

namespace lifeboat::cli {
namespace {

constexpr int64_t kPlainIntervalNanos = 5'000'000'000;
// A rate over the first second says more about start-up than about the work, and an estimate
// from the first percent more about the first table than about the rest: neither is shown
// before then (the estimate, at the latest, after 10 s).
constexpr int64_t kRateAfterNanos = 1'000'000'000;
constexpr int64_t kEstimateAnywayAfterNanos = 10'000'000'000;

std::string Eta(const Progress& p) {
  if (p.bytes_total == 0 || p.bytes_done == 0 || p.bytes_done >= p.bytes_total) return "";
  if (p.elapsed_nanos < kRateAfterNanos) return "";
  if (p.bytes_done < p.bytes_total / 100 && p.elapsed_nanos < kEstimateAnywayAfterNanos) return "";
  double rate = static_cast<double>(p.bytes_done) / static_cast<double>(p.elapsed_nanos);
  const int64_t remaining = std::llround(static_cast<double>(p.bytes_total - p.bytes_done) / rate);
  return "ETA " + FormatDuration(remaining);
}

std::string Rate(const Progress& p) {
  if (p.elapsed_nanos < kRateAfterNanos) return "";
  double per_second =
      static_cast<double>(p.bytes_done) * 1e9 / static_cast<double>(p.elapsed_nanos);
  return FormatBytes(static_cast<uint64_t>(per_second)) + "/s";
}

}  // namespace

ProgressRenderer::ProgressRenderer(FILE* out, bool quiet)
    : out_(out), terminal_(IsTerminal(out)), quiet_(quiet) {}

ProgressRenderer::~ProgressRenderer() {
  Finish();
}

void ProgressRenderer::ClearLine() {
  if (bar_shown_) {
    std::fputs("\r\033[2K", out_);
    bar_shown_ = false;
  }
}

void ProgressRenderer::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLine();
  std::fflush(out_);
}

void ProgressRenderer::OnProgress(const Progress& p) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::string figures = FormatBytes(p.bytes_done);
  if (p.bytes_total > 0) figures += " / " + FormatBytes(p.bytes_total);
  if (p.rows_done > 0) figures += ", " + std::to_string(p.rows_done) + " rows";
  std::string rate = Rate(p);
  std::string eta = Eta(p);
  if (terminal_) {
    int percent =
        p.bytes_total > 0
            ? static_cast<int>(std::min<uint64_t>(100, p.bytes_done * 100 / p.bytes_total))
            : 0;
    constexpr int kWidth = 24;
    int filled = percent * kWidth / 100;
    std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
    std::string line = p.operation + " " + bar + " " + std::to_string(percent) + "% " + figures;
    if (!rate.empty()) line += "  " + rate;
    if (!eta.empty()) line += "  " + eta;
    if (!p.item.empty()) line += "  " + p.item;
    if (line.size() > 150) line.resize(150);
    std::fprintf(out_, "\r\033[2K%s", line.c_str());
    std::fflush(out_);
    bar_shown_ = true;
    return;
  }
  bool item_finished = p.items_done != last_items_done_;
  if (!item_finished && p.elapsed_nanos - last_plain_nanos_ < kPlainIntervalNanos) return;
  last_items_done_ = p.items_done;
  last_plain_nanos_ = p.elapsed_nanos;
  std::string line = p.operation + ": " + std::to_string(p.items_done) + "/" +
                     std::to_string(p.items_total) + " items, " + figures;
  if (!rate.empty()) line += ", " + rate;
  if (!eta.empty()) line += ", " + eta;
  if (!p.item.empty()) line += " (" + p.item + ")";
  std::fprintf(out_, "%s\n", line.c_str());
}

void ProgressRenderer::OnMessage(MessageLevel level, const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLine();
  switch (level) {
    case MessageLevel::kInfo: std::fprintf(out_, "%s\n", text.c_str()); break;
    case MessageLevel::kWarning:
      std::fprintf(out_, "%s %s\n", Yellow("warning:", out_).c_str(), text.c_str());
      break;
    case MessageLevel::kError:
      std::fprintf(out_, "%s %s\n", Red("error:", out_).c_str(), text.c_str());
      break;
  }
  std::fflush(out_);
}

}  // namespace lifeboat::cli
