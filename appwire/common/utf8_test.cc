#include "appwire/common/utf8.h"

#include "gtest/gtest.h"

namespace appwire {
namespace {

TEST(ValidUtf8Test, WellFormedTextIsKept) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
  EXPECT_EQ(ValidUtf8(text), text);
  EXPECT_EQ(ValidUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(ValidUtf8(""), "");
}

TEST(ValidUtf8Test, EachByteOutsideAWellFormedSequenceBecomesAQuestionMark) {
  EXPECT_EQ(ValidUtf8("\xff"), "?");
  EXPECT_EQ(ValidUtf8("a\x80z"), "a?z");               // a lone continuation byte
  EXPECT_EQ(ValidUtf8("\xc3 "), "? ");                 // a lead without its continuation
  EXPECT_EQ(ValidUtf8("\xe2\x82"), "??");              // cut short at the end
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), "??");              // overlong '/'
  EXPECT_EQ(ValidUtf8("\xe0\x80\xaf"), "???");         // overlong, three bytes
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), "???");         // a surrogate, U+D800
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), "????");    // above U+10FFFF
  EXPECT_EQ(ValidUtf8("\xf5\x80\x80\x80"), "????");
}

TEST(ValidUtf8Test, TheCutFallsOnACharacterBoundary) {
  EXPECT_EQ(ValidUtf8("ab\xc3\xa9", 3), "ab");
  EXPECT_EQ(ValidUtf8("ab\xc3\xa9", 4), "ab\xc3\xa9");
  EXPECT_EQ(ValidUtf8("\xf0\x9f\x98\x80x", 3), "");
  EXPECT_EQ(ValidUtf8("abc\xff", 3), "abc");
  EXPECT_EQ(ValidUtf8("abcdef", 0), "");
}

}  // namespace
}  // namespace appwire
