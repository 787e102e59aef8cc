// Status/Result: OK by default, codes and messages preserved, errors propagate through the macros.
#include "util/status.h"

#include <gtest/gtest.h>

namespace tearproof {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  TP_ASSIGN_OR_RETURN(int h, Half(x));
  TP_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckPositive(int x) {
  if (x <= 0) return OutOfRange("not positive");
  return Status::Ok();
}

Status BothPositive(int a, int b) {
  TP_RETURN_IF_ERROR(CheckPositive(a));
  TP_RETURN_IF_ERROR(CheckPositive(b));
  return Status::Ok();
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = Corruption("arena 0: bad checksum");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "CORRUPTION: arena 0: bad checksum");
  EXPECT_EQ(s.Annotate("image.img: ").message(), "image.img: arena 0: bad checksum");
}

TEST(Result, PropagatesFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(Status, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_TRUE(BothPositive(1, 2).ok());
  EXPECT_EQ(BothPositive(1, -2).code(), StatusCode::kOutOfRange);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InvalidArgument("x");
  EXPECT_DEATH((void)r.value(), "RESULT-VALUE-ON-ERROR");
}

}  // namespace
}  // namespace tearproof
