// fanout_plan: a room's subscribers grouped by sink, one hand-off per sink per broadcast.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actor_test_support.hpp"
#include "actors/fanout.hpp"

namespace plexus::actors::test {
namespace {

/// A sink that records each hand-off (and keeps the lists, as an I/O thread still busy
/// with them would).
class recording_sink : public outbox_sink {
public:
  void push_all(frame_ptr f, slow_consumer_policy, outbox_list targets) override {
    frames.push_back(std::move(f));
    lists.push_back(std::move(targets));
  }
  std::vector<frame_ptr> frames;
  std::vector<outbox_list> lists;
};

/// A vector outbox that names a sink.
class sunk_outbox : public vector_outbox {
public:
  explicit sunk_outbox(outbox_sink* s) : sink_(s) {
  }
  outbox_sink* sink() const override {
    return sink_;
  }

private:
  outbox_sink* sink_;
};

struct sub {
  outbox_ptr out;
};

frame_ptr text_frame(std::string text) {
  auto f = std::make_shared<frame>();
  f->json = std::move(text);
  return f;
}

TEST(fanout_plan, one_hand_off_per_sink_and_a_push_per_outbox_without_one) {
  recording_sink a, b;
  auto lone = std::make_shared<vector_outbox>();
  std::vector<sub> subs{{std::make_shared<sunk_outbox>(&a)}, {std::make_shared<sunk_outbox>(&b)},
                        {lone}, {std::make_shared<sunk_outbox>(&a)}};
  fanout_plan plan;
  plan.push(subs, text_frame("m1"), slow_consumer_policy::disconnect);
  ASSERT_EQ(a.lists.size(), 1u);
  ASSERT_EQ(b.lists.size(), 1u);
  EXPECT_EQ(*a.lists[0], (std::vector<outbox_ptr>{subs[0].out, subs[3].out}));
  EXPECT_EQ(*b.lists[0], (std::vector<outbox_ptr>{subs[1].out}));
  EXPECT_EQ(lone->frames(), (std::vector<std::string>{"m1"}));
  // The sunk outboxes were not pushed one by one.
  EXPECT_TRUE(std::static_pointer_cast<vector_outbox>(subs[0].out)->frames().empty());
}

TEST(fanout_plan, follows_the_subscribers_after_invalidate) {
  recording_sink a, b;
  std::vector<sub> subs{{std::make_shared<sunk_outbox>(&a)}, {std::make_shared<sunk_outbox>(&b)}};
  fanout_plan plan;
  plan.push(subs, text_frame("m1"), slow_consumer_policy::disconnect);
  subs.pop_back(); // b's only subscriber leaves
  subs.push_back({std::make_shared<sunk_outbox>(&a)});
  plan.invalidate();
  plan.push(subs, text_frame("m2"), slow_consumer_policy::disconnect);
  ASSERT_EQ(a.lists.size(), 2u);
  EXPECT_EQ(*a.lists[1], (std::vector<outbox_ptr>{subs[0].out, subs[1].out}));
  EXPECT_EQ(b.lists.size(), 1u) << "a sink with no subscribers left gets no hand-off";
}

TEST(fanout_plan, a_list_a_sink_still_holds_never_changes) {
  recording_sink a;
  std::vector<sub> subs{{std::make_shared<sunk_outbox>(&a)}};
  fanout_plan plan;
  plan.push(subs, text_frame("m1"), slow_consumer_policy::disconnect);
  subs.push_back({std::make_shared<sunk_outbox>(&a)});
  plan.invalidate();
  plan.push(subs, text_frame("m2"), slow_consumer_policy::disconnect);
  ASSERT_EQ(a.lists.size(), 2u);
  EXPECT_EQ(a.lists[0]->size(), 1u) << "the list handed over with m1 was changed in place";
  EXPECT_EQ(a.lists[1]->size(), 2u);
}

TEST(fanout_plan, without_changes_every_broadcast_hands_over_the_same_list) {
  recording_sink a;
  std::vector<sub> subs{{std::make_shared<sunk_outbox>(&a)}, {std::make_shared<sunk_outbox>(&a)}};
  fanout_plan plan;
  for (int i = 0; i < 3; ++i) {
    plan.push(subs, text_frame("m"), slow_consumer_policy::disconnect);
  }
  ASSERT_EQ(a.lists.size(), 3u);
  EXPECT_EQ(a.lists[0], a.lists[1]);
  EXPECT_EQ(a.lists[1], a.lists[2]);
}

} // namespace
} // namespace plexus::actors::test
