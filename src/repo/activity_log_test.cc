#include "repo/activity_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "storage/memory_object_store.h"

namespace lifeboat {
namespace {

int64_t At(const char* rfc3339) {
  int64_t nanos = 0;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &nanos)) << rfc3339;
  return nanos;
}

ActivityEvent Event(int64_t time, std::string instance, std::string event = "completed") {
  ActivityEvent e;
  e.time_nanos = time;
  e.operation = "backup";
  e.op_id = "0a1b2c3d";
  e.event = std::move(event);
  e.user = "ops";
  e.host = "app-1";
  e.instance = std::move(instance);
  return e;
}

class ActivityLogTest : public ::testing::Test {
 protected:
  ActivityLogTest()
      : sealer_(std::string(32, 'k')),
        clock_(At("2026-11-22T12:00:00Z")),
        log_(&store_, &sealer_, &clock_) {}

  std::vector<ActivityEvent> ReadAll(const LogFilter& filter = {}) {
    std::vector<ActivityEvent> events;
    Status status = log_.Read(filter, [&](const ActivityEvent& event) {
      events.push_back(event);
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return events;
  }

  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    EXPECT_TRUE(store_
                    .List(kLogPrefix,
                          [&](const ObjectInfo& info) {
                            keys.push_back(info.key);
                            return OkStatus();
                          })
                    .ok());
    return keys;
  }

  MemoryObjectStore store_;
  DocumentSealer sealer_;
  ManualClock clock_;
  ActivityLog log_;
};

TEST_F(ActivityLogTest, ReadReturnsEventsInTimeOrder) {
  const int64_t t1 = At("2026-11-22T10:00:00Z");
  const int64_t t2 = At("2026-11-22T10:00:00Z") + 1;  // one nanosecond later
  const int64_t t3 = At("2026-11-22T11:30:00Z");
  ASSERT_TRUE(log_.Append(Event(t3, "prod")).ok());
  ASSERT_TRUE(log_.Append(Event(t1, "test", "started")).ok());
  ASSERT_TRUE(log_.Append(Event(t2, "prod", "started")).ok());

  std::vector<ActivityEvent> events = ReadAll();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].time_nanos, t1);
  EXPECT_EQ(events[0].instance, "test");
  EXPECT_EQ(events[1].time_nanos, t2);
  EXPECT_EQ(events[1].instance, "prod");
  EXPECT_EQ(events[2].time_nanos, t3);
  EXPECT_EQ(events[2].event, "completed");
}

TEST_F(ActivityLogTest, ObjectNamesSortByTime) {
  ASSERT_TRUE(log_.Append(Event(At("2026-11-22T10:00:00Z") + 5, "prod")).ok());
  std::vector<std::string> keys = Keys();
  ASSERT_EQ(keys.size(), 1u);
  // log/<20-digit unix nanos>-<8 hex>
  EXPECT_EQ(keys[0].substr(0, 25), "log/01795341600000000005-") << keys[0];
  EXPECT_EQ(keys[0].size(), std::string("log/").size() + 20 + 1 + 8);
}

TEST_F(ActivityLogTest, FiltersByInstanceAndSince) {
  const int64_t t1 = At("2026-11-20T10:00:00Z");
  const int64_t t2 = At("2026-11-21T10:00:00Z");
  const int64_t t3 = At("2026-11-22T10:00:00Z");
  ASSERT_TRUE(log_.Append(Event(t2, "prod")).ok());
  ASSERT_TRUE(log_.Append(Event(t1, "prod")).ok());
  ASSERT_TRUE(log_.Append(Event(t3, "test")).ok());
  ASSERT_TRUE(log_.Append(Event(t3 + 1, "prod")).ok());

  std::vector<ActivityEvent> prod = ReadAll(LogFilter{"prod", 0});
  ASSERT_EQ(prod.size(), 3u);
  EXPECT_EQ(prod[0].time_nanos, t1);
  EXPECT_EQ(prod[1].time_nanos, t2);
  EXPECT_EQ(prod[2].time_nanos, t3 + 1);

  std::vector<ActivityEvent> since = ReadAll(LogFilter{"", t2});
  ASSERT_EQ(since.size(), 3u);
  EXPECT_EQ(since[0].time_nanos, t2) << "since is inclusive";
  EXPECT_EQ(since[1].instance, "test");

  std::vector<ActivityEvent> both = ReadAll(LogFilter{"prod", t2 + 1});
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0].time_nanos, t3 + 1);

  EXPECT_TRUE(ReadAll(LogFilter{"staging", 0}).empty());
}

TEST_F(ActivityLogTest, TamperedObjectIsDataLossNamingTheObject) {
  ASSERT_TRUE(log_.Append(Event(At("2026-11-22T10:00:00Z"), "prod")).ok());
  ASSERT_TRUE(log_.Append(Event(At("2026-11-22T11:00:00Z"), "prod")).ok());
  std::vector<std::string> keys = Keys();
  ASSERT_EQ(keys.size(), 2u);
  const std::string victim = keys[1];
  auto sealed = store_.Get(victim);
  ASSERT_TRUE(sealed.ok());
  std::string tampered = *sealed;
  tampered[tampered.size() / 2] ^= 0x01;
  ASSERT_TRUE(store_.Put(victim, tampered).ok());

  int seen = 0;
  Status status = log_.Read({}, [&](const ActivityEvent&) {
    ++seen;
    return OkStatus();
  });
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(victim), std::string::npos) << status.message();
  EXPECT_EQ(seen, 1) << "the events before the damaged one were delivered";
}

TEST_F(ActivityLogTest, EventMovedToAnotherNameIsDataLoss) {
  ASSERT_TRUE(log_.Append(Event(At("2026-11-22T10:00:00Z"), "prod")).ok());
  const std::string original = Keys()[0];
  auto sealed = store_.Get(original);
  ASSERT_TRUE(sealed.ok());
  const std::string moved = "log/00000000000000000001-00000000";
  ASSERT_TRUE(store_.Put(moved, *sealed).ok());
  ASSERT_TRUE(store_.Delete(original).ok());

  Status status = log_.Read({}, [](const ActivityEvent&) { return OkStatus(); });
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(moved), std::string::npos) << status.message();
}

TEST_F(ActivityLogTest, MalformedNameIsDataLossNamingTheObject) {
  ASSERT_TRUE(store_.Put("log/yesterday", "x").ok());
  Status status = log_.Read({}, [](const ActivityEvent&) { return OkStatus(); });
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("log/yesterday"), std::string::npos) << status.message();
}

TEST_F(ActivityLogTest, RoundTripsEveryField) {
  ActivityEvent event;
  event.time_nanos = At("2026-11-22T10:04:05Z") + 250'000'000;
  event.operation = "restore";
  event.op_id = "9f8e7d6c5b4a3921";
  event.event = "failed";
  event.user = "ops";
  event.host = "app-1";
  event.instance = "prod";
  event.account = "acme";
  event.name = "before upgrade";
  event.notes = "ticket #4711 — «quoted» \"text\"\nsecond line";
  event.snapshot = std::string(64, 'c');
  event.outcome = "partial";
  event.error = "2 tables failed";
  event.table_errors = {{"trk_issues", "constraint failed"}, {"trk_notes", "disk full"}};
  event.figures = {{"rows", 120000}, {"bytes", 48213112}, {"seconds", 3.25}};
  ASSERT_TRUE(log_.Append(event).ok());

  std::vector<ActivityEvent> events = ReadAll();
  ASSERT_EQ(events.size(), 1u);
  const ActivityEvent& back = events[0];
  EXPECT_EQ(back.time_nanos, event.time_nanos);
  EXPECT_EQ(back.operation, event.operation);
  EXPECT_EQ(back.op_id, event.op_id);
  EXPECT_EQ(back.event, event.event);
  EXPECT_EQ(back.user, event.user);
  EXPECT_EQ(back.host, event.host);
  EXPECT_EQ(back.instance, event.instance);
  EXPECT_EQ(back.account, event.account);
  EXPECT_EQ(back.name, event.name);
  EXPECT_EQ(back.notes, event.notes);
  EXPECT_EQ(back.snapshot, event.snapshot);
  EXPECT_EQ(back.outcome, event.outcome);
  EXPECT_EQ(back.error, event.error);
  EXPECT_EQ(back.table_errors, event.table_errors);
  EXPECT_EQ(back.figures, event.figures);

  const nlohmann::json document = ActivityEventToJson(event);
  EXPECT_EQ(document["time"], "2026-11-22T10:04:05.250000000Z");
  EXPECT_EQ(document["table_errors"][1]["table"], "trk_notes");
  EXPECT_EQ(document["table_errors"][1]["error"], "disk full");
}

TEST_F(ActivityLogTest, AbsentErrorIsNullAndOptionalFieldsMayBeMissing) {
  ActivityEvent event = Event(At("2026-11-22T10:00:00Z"), "");
  nlohmann::json document = ActivityEventToJson(event);
  EXPECT_TRUE(document["error"].is_null());
  EXPECT_TRUE(document["figures"].is_object());

  for (const char* optional : {"instance", "account", "name", "notes", "snapshot", "outcome",
                               "error", "table_errors", "figures"}) {
    document.erase(optional);
  }
  document["added_in_a_later_version"] = "ignored";
  auto back = ActivityEventFromJson(document, "log/x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->error.has_value());
  EXPECT_TRUE(back->table_errors.empty());
  EXPECT_TRUE(back->figures.is_object());
  EXPECT_TRUE(back->figures.empty());
}

TEST_F(ActivityLogTest, MissingRequiredFieldIsDataLossNamingTheObject) {
  const nlohmann::json complete = ActivityEventToJson(Event(At("2026-11-22T10:00:00Z"), "prod"));
  for (const char* required : {"time", "operation", "op_id", "event", "user", "host"}) {
    nlohmann::json document = complete;
    document.erase(required);
    auto back = ActivityEventFromJson(document, "log/00000000000000000042-deadbeef");
    ASSERT_FALSE(back.ok()) << required;
    EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(back.status().message().find("log/00000000000000000042-deadbeef"), std::string::npos);
    EXPECT_NE(back.status().message().find(required), std::string::npos) << back.status().message();
  }
  nlohmann::json wrong_type = complete;
  wrong_type["figures"] = "many";
  EXPECT_EQ(ActivityEventFromJson(wrong_type, "log/y").status().code(), StatusCode::kDataLoss);
}

TEST_F(ActivityLogTest, AppendStampsTheClockTimeWhenNoneIsGiven) {
  ASSERT_TRUE(log_.Append(Event(0, "prod", "requested")).ok());
  std::vector<ActivityEvent> events = ReadAll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].time_nanos, clock_.NowUnixNanos());
}

TEST_F(ActivityLogTest, AppendRejectsMalformedEvents) {
  ActivityEvent no_operation = Event(1, "prod");
  no_operation.operation.clear();
  EXPECT_EQ(log_.Append(no_operation).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_.Append(Event(1, "prod", "finished")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_.Append(Event(-5, "prod")).code(), StatusCode::kInvalidArgument);
  ActivityEvent bad_figures = Event(1, "prod");
  bad_figures.figures = nlohmann::json::array();
  EXPECT_EQ(log_.Append(bad_figures).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Keys().empty());
}

TEST_F(ActivityLogTest, CallbackErrorStopsReading) {
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log_.Append(Event(i * kNanosPerSecond, "prod")).ok());
  int seen = 0;
  Status status = log_.Read({}, [&](const ActivityEvent&) {
    ++seen;
    return seen == 2 ? CancelledError("enough") : OkStatus();
  });
  EXPECT_EQ(status.code(), StatusCode::kCancelled);
  EXPECT_EQ(seen, 2);
}

TEST_F(ActivityLogTest, EventsOfAnotherKeyDoNotOpen) {
  ASSERT_TRUE(log_.Append(Event(At("2026-11-22T10:00:00Z"), "prod")).ok());
  DocumentSealer other_key(std::string(32, 'x'));
  ActivityLog other(&store_, &other_key, &clock_);
  Status status = other.Read({}, [](const ActivityEvent&) { return OkStatus(); });
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(Keys()[0]), std::string::npos) << status.message();
}

}  // namespace
}  // namespace lifeboat
