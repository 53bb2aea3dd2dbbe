// CallIdWindow: which request ids a connection has used, in bounded memory,
// so that the server can enforce "a client MUST NOT reuse an id on a
// connection" (docs/protocol.md, section 7.1) without remembering every id.
//
// Ids need not arrive in increasing order. Every id above the highest one
// seen is new; of the kSpan ids just below the highest, a fixed bitmap says
// which were used; an id further below than that counts as used (the
// protocol document says so). Call ids are odd, so the bitmap holds one bit
// per odd id: kSpan / 2 bits, 256 bytes.
//
// Not thread-safe: one connection's read loop owns it.
#ifndef APPWIRE_RPC_CALL_ID_WINDOW_H_
#define APPWIRE_RPC_CALL_ID_WINDOW_H_

#include <bitset>
#include <cstdint>

namespace appwire {

class CallIdWindow {
 public:
  static constexpr uint64_t kSpan = 4096;

  enum class Verdict {
    kNew,      // recorded; serve the call
    kUsed,     // seen before on this connection
    kTooOld,   // more than kSpan below the highest id seen
  };

  // Records `id` (odd, >= 1) when it is new.
  Verdict Use(uint64_t id);
  // The highest id recorded; 0 before the first.
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  // Bit i: id highest_ - 2 * i was used.
  std::bitset<kSpan / 2> used_;
};

}  // namespace appwire

#endif  // APPWIRE_RPC_CALL_ID_WINDOW_H_
