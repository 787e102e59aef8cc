// sim::Medium — a deterministic simulated persistent memory with crash states.
//
// Contract:
//   - Byte-addressable, size_bytes fixed at creation (any size up to many GiB: storage is sparse,
//     4 KiB pages allocated on first store; never-written memory reads as zero and is durable as
//     zero). 8-byte words, 64-byte cache lines.
//   - Every operation is issued on behalf of a lane (a logical CPU, LaneId < kMaxLanes). Lanes run
//     one at a time (no store buffers), so a load sees the latest store of any lane.
//   - Out-of-range addresses or lanes return kOutOfRange / kInvalidArgument and change nothing.
//     Zero-length Load/Store/range flush/Persist are no-ops (not even recorded). A flush of a line
//     with nothing unguaranteed, or a fence with nothing pending, is recorded but changes nothing;
//     so is a store that leaves every byte of a line with nothing unguaranteed as it was (it adds
//     no crash state, and the line stays out of pending_line_count).
//   - Crash semantics per PersistencyModel (docs/persistency.md): every word has the value at its
//     last guaranteed persist point plus the values stored since ("candidates"). Stores are split
//     into whole-word pieces (a sub-word store makes a new whole-word value), so an aligned 8-byte
//     store never tears and anything wider may tear at 8-byte boundaries.
//   - clwb/clflushopt snapshot a line; the issuing lane's next sfence/mfence guarantees the
//     snapshot. clflush guarantees the line at once. Non-temporal stores are guaranteed at the
//     issuing lane's next fence and may be lost before it, in every model.
//   - Crash states: CrashSpace (size), ForEachCrashState (complete enumeration), DrawCrashState
//     (one from a seed), LazyCrash (values chosen when first read). Each yields a fresh Medium (the
//     post-crash image, nothing pending) that shares unchanged pages copy-on-write, so making one
//     costs in proportion to the pending lines, not the medium size; crashing it again works.
//   - Deterministic: no randomness except explicit seeds, no clocks, ordered containers only.
//     Not thread-safe; a copy-on-write page may be shared by several Medium objects of one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "sim/crash_chooser.h"
#include "sim/event.h"
#include "sim/mutant.h"
#include "util/status.h"

namespace tearproof::sim {

inline constexpr uint64_t kPageBytes = 4096;

struct MediumOptions {
  uint64_t size_bytes = 0;  // > 0
  PersistencyModel model = PersistencyModel::kPx86;
  bool event_log = true;  // record every operation (Medium::events)
};

// The post-crash contents of the lines that had unguaranteed data. Every other line holds its
// guaranteed (= visible) contents.
struct CrashLineImage {
  uint64_t line_addr = 0;
  std::array<uint64_t, kWordsPerLine> words{};
  friend bool operator==(const CrashLineImage&, const CrashLineImage&) = default;
};
struct CrashState {
  std::vector<CrashLineImage> lines;  // ascending line_addr
};

// The number of distinct crash states. count saturates at UINT64_MAX; log2 is always finite.
// exact is false only for px86 lines mixing many non-temporal and cached stores, where count is
// an upper bound (Σ over prefixes of the per-prefix products).
struct CrashSpaceSize {
  uint64_t count = 1;
  double log2 = 0;
  bool saturated = false;
  bool exact = true;
};

class Medium {
 public:
  // REQUIRES: options.size_bytes > 0 (else kInvalidArgument).
  static Result<Medium> Create(const MediumOptions& options);

  Medium(Medium&&) = default;
  Medium& operator=(Medium&&) = default;
  Medium(const Medium&) = delete;
  Medium& operator=(const Medium&) = delete;

  uint64_t size_bytes() const { return size_bytes_; }
  PersistencyModel model() const { return model_; }

  // --- Operations -------------------------------------------------------------------------------
  // Loads see the latest stores. On a lazy crash view, a load resolves the words it reads.
  Status Load(LaneId lane, uint64_t addr, std::span<std::byte> out);
  Status Store(LaneId lane, uint64_t addr, std::span<const std::byte> data);
  Status StoreNt(LaneId lane, uint64_t addr, std::span<const std::byte> data);
  Result<uint64_t> Load64(LaneId lane, uint64_t addr);  // any alignment, little-endian
  Status Store64(LaneId lane, uint64_t addr, uint64_t value);

  // Flush the line containing addr (addr < size_bytes).
  Status Clflush(LaneId lane, uint64_t addr);
  Status Clflushopt(LaneId lane, uint64_t addr);
  Status Clwb(LaneId lane, uint64_t addr);
  // Flush every line touching [addr, addr + size_bytes), one event per line.
  Status ClflushRange(LaneId lane, uint64_t addr, uint64_t size_bytes);
  Status ClflushoptRange(LaneId lane, uint64_t addr, uint64_t size_bytes);
  Status ClwbRange(LaneId lane, uint64_t addr, uint64_t size_bytes);
  Status Sfence(LaneId lane);
  Status Mfence(LaneId lane);
  // ClwbRange + Sfence: the range is durable when this returns OK.
  Status Persist(LaneId lane, uint64_t addr, uint64_t size_bytes);

  // Replays one recorded event (its seq is ignored; this medium numbers it anew).
  Status Apply(const Event& event);

  // --- Event log --------------------------------------------------------------------------------
  const std::vector<Event>& events() const { return events_; }
  void set_event_log_enabled(bool enabled) { event_log_ = enabled; }
  void ClearEventLog() { events_.clear(); }
  uint64_t event_count() const { return next_event_seq_; }  // recorded or not

  // --- Crash states -----------------------------------------------------------------------------
  CrashSpaceSize CrashSpace() const;
  // Calls visit(state) for every distinct crash state, in a deterministic order, until visit
  // returns false or max_states have been visited. Returns the number visited. kUnsupported if one
  // line alone has more than max_states distinct images. Unresolved words of an earlier lazy crash
  // are not enumerated here (they stay lazy in the media made from these states).
  Result<uint64_t> ForEachCrashState(const std::function<bool(const CrashState&)>& visit,
                                     uint64_t max_states) const;
  // One crash state drawn from seed: per px86 line a uniform prefix length and a coin per
  // non-temporal store; per word8/eadr word a uniform candidate (not uniform over states).
  CrashState DrawCrashState(uint64_t seed) const;
  // The state in which nothing unguaranteed persisted.
  CrashState GuaranteedState() const;
  // The fresh post-crash medium for `state` (which must come from this medium at this moment).
  Medium MaterializeCrash(const CrashState& state) const;
  // A post-crash medium whose unguaranteed words are resolved on first access through chooser.
  // A load resolves the words it reads; a store, or a nested crash of a pending line, first
  // resolves its whole line.
  Medium LazyCrash(std::shared_ptr<CrashChooser> chooser) const;

  // --- Introspection ----------------------------------------------------------------------------
  // Distinct values the aligned word at word_addr may hold after a crash, guaranteed value first
  // (word8 view: ignores the px86 cross-word constraints).
  std::vector<uint64_t> WordCandidates(uint64_t word_addr) const;
  uint64_t pending_line_count() const { return pending_line_count_; }
  uint64_t unresolved_line_count() const { return lazy_lines_.size(); }
  uint64_t allocated_page_count() const { return pages_.size(); }

  // Internal representation, public for the candidate logic in crash_internal and for tests.
  // One store's contribution to one word: its new whole-word value plus, packed into 64 bits
  // (16-byte pieces halve the memory traffic of wide stores), the global piece order `seq`
  // (store order; ascending address within a store; < 2^48), the lane, the word's index in its
  // line and whether the store was non-temporal.
  struct Piece {
    uint64_t value = 0;
    uint64_t meta = 0;  // seq << 16 | lane << 8 | nt << 3 | word

    // REQUIRES (checked once per store, INV-SIM-PIECE-PACK): seq < 2^48, lane < 256, word < 8.
    static Piece Make(uint64_t seq, uint64_t value, uint32_t lane, uint32_t word, bool nt) {
      return Piece{value, seq << 16 | uint64_t{lane} << 8 | uint64_t{nt} << 3 | word};
    }
    uint64_t seq() const { return meta >> 16; }
    uint32_t lane() const { return static_cast<uint32_t>(meta >> 8) & 0xFF; }
    bool nt() const { return (meta >> 3 & 1) != 0; }
    uint32_t word() const { return static_cast<uint32_t>(meta & 7); }
  };
  // A line with unguaranteed pieces. Invariant INV-SIM-PENDING-AFTER-BASE: every pending piece of
  // word w has seq > base_seq[w] (pieces dominated by a guaranteed later piece are dropped).
  struct LineState {
    std::array<uint64_t, kWordsPerLine> base{};
    std::array<uint64_t, kWordsPerLine> base_seq{};
    std::vector<Piece> pending;  // ascending seq
  };
  // A line's guaranteed contents and pending pieces, wherever they are kept (a LineState, or the
  // flat copy a lazy crash keeps): what the candidate logic reads.
  struct LineView {
    const std::array<uint64_t, kWordsPerLine>& base;
    const std::array<uint64_t, kWordsPerLine>& base_seq;
    std::span<const Piece> pending;  // ascending seq
    LineView(const LineState& line)  // NOLINT: implicit by design
        : base(line.base), base_seq(line.base_seq), pending(line.pending) {}
    LineView(const std::array<uint64_t, kWordsPerLine>& b,
             const std::array<uint64_t, kWordsPerLine>& s, std::span<const Piece> p)
        : base(b), base_seq(s), pending(p) {}
  };

 private:
  struct Page {
    std::array<std::byte, kPageBytes> bytes{};
  };
  using PageEntry = std::pair<uint64_t, std::shared_ptr<Page>>;  // page index, contents
  // Pending lines are indexed per 4 KiB page (one ordered-map lookup per page, then an array
  // slot per line) and their LineStates are pooled, so the steady state of store + persist does
  // not allocate. Iteration is in ascending line order.
  static constexpr uint64_t kLinesPerPage = kPageBytes / kLineBytes;
  struct PendingPage {
    std::array<uint32_t, kLinesPerPage> slot{};  // index + 1 into line_pool_, 0 = not pending
    uint32_t count = 0;
  };
  struct LaneState {
    std::vector<std::pair<uint64_t, uint64_t>> snapshots;  // (line index, last piece seq)
    std::vector<uint64_t> nt_lines;                         // lines with this lane's NT pieces
  };
  // What every crash of the medium's current pending lines shares: the lines and their pieces in
  // one array, and under word8/eadr (independent words) each word's candidates, computed when a
  // crash first resolves the word and kept (they depend on the pieces alone). LazyCrash builds
  // it on first use and keeps it until a store or a fold changes a pending line (crash_lines_),
  // so the many crash views of one crash point (one per resolution the explorer visits) neither
  // copy the lines nor recompute candidates.
  struct CrashLines {
    struct Line {
      std::array<uint64_t, kWordsPerLine> base{};
      std::array<uint64_t, kWordsPerLine> base_seq{};
      uint32_t first_piece = 0;  // this line's pending pieces: pieces[first_piece, + count)
      uint32_t piece_count = 0;
      // !prefix_rule: word w's candidates are candidates[first_candidate[w], + candidate_count[w])
      // once candidate_count[w] > 0 (there is always at least one: the guaranteed value).
      std::array<uint32_t, kWordsPerLine> first_candidate{};
      std::array<uint32_t, kWordsPerLine> candidate_count{};
    };
    bool prefix_rule = true;
    std::vector<Piece> pieces;
    std::vector<Line> lines;
    std::vector<uint64_t> candidates;
  };
  // The unresolved lines of one crash. Their resolution is shared by every medium descending
  // from that crash (nested crashes fork it), because a word has one post-crash value per crash:
  // a word first read in a nested crash is resolved once, for the crash it belongs to.
  struct LazyCrashLines {
    struct Resolution {
      std::array<bool, kWordsPerLine> resolved{};
      std::array<uint64_t, kWordsPerLine> value{};
    };
    std::shared_ptr<CrashLines> lines;
    std::shared_ptr<CrashChooser> chooser;
    std::vector<Resolution> resolution;  // parallel to lines->lines
    // Reused by every px86 resolution (no allocation per word): the word's candidates, and the
    // rule's per-prefix candidates.
    std::vector<uint64_t> candidates;
    std::vector<uint64_t> scratch;
  };
  // A line of this medium still unresolved after a crash: line `index` of `crash`.
  struct LazyLine {
    uint64_t line = 0;
    std::shared_ptr<LazyCrashLines> crash;
    uint32_t index = 0;
    std::array<bool, kWordsPerLine> applied{};  // resolved value written into this medium's page
  };

  Medium(uint64_t size_bytes, PersistencyModel model, bool event_log);

  Status CheckLane(LaneId lane) const;
  Status CheckRange(uint64_t addr, uint64_t size_bytes, const char* op) const;
  // Numbers every operation; appends it to the log when the log is on.
  void Record(EventKind kind, LaneId lane, uint64_t addr, std::span<const std::byte> data) {
    const uint64_t seq = next_event_seq_++;
    if (event_log_) AppendEvent(seq, kind, lane, addr, data);
  }
  void AppendEvent(uint64_t seq, EventKind kind, LaneId lane, uint64_t addr,
                   std::span<const std::byte> data);
  Status StoreImpl(LaneId lane, uint64_t addr, std::span<const std::byte> data, bool nt);
  Status FlushImpl(LaneId lane, uint64_t addr, EventKind kind);
  void FlushLine(LaneId lane, uint64_t addr, EventKind kind);  // REQUIRES: checked lane, addr
  Status FlushRangeImpl(LaneId lane, uint64_t addr, uint64_t size_bytes, EventKind kind);
  Status FenceImpl(LaneId lane, EventKind kind);
  LaneState& Lanes(LaneId lane);

  std::vector<PageEntry>::const_iterator FindPage(uint64_t page_index) const;  // lower bound
  std::byte* MutablePage(uint64_t page_index);
  const std::byte* PageOrNull(uint64_t page_index) const;
  uint64_t ReadWord(uint64_t word_addr) const;  // visible value
  void WriteWord(uint64_t word_addr, uint64_t value);
  void ReadLineWords(uint64_t line, std::array<uint64_t, kWordsPerLine>* words) const;

  PendingPage* FindPendingPage(uint64_t page_index) const;
  LineState* FindLine(uint64_t line);
  const LineState* FindLine(uint64_t line) const;
  LineState* CreateLine(uint64_t line);  // REQUIRES: not pending; base and pending are reset
  void EraseLine(uint64_t line);
  // Calls visit(line index, state) for every pending line, in ascending line order.
  template <typename Visit>
  void ForEachPendingLine(Visit&& visit) const;
  // Every pending line with its state, in ascending line order.
  std::vector<std::pair<uint64_t, const LineState*>> PendingLines() const;

  // Folds the pieces matching pred into the line's base and drops dominated pieces; erases the
  // line when nothing is pending any more.
  template <typename Pred>
  void Fold(uint64_t line, LineState& state, Pred pred);

  bool UsesPrefixRule() const;
  void ResolveLazyWords(uint64_t addr, uint64_t size_bytes, bool whole_lines);
  static void ResolveShared(uint64_t line, LazyCrashLines& crash, uint32_t index, uint32_t word);
  // The shared part of every crash of the current pending lines (built on first use).
  const std::shared_ptr<CrashLines>& CurrentCrashLines() const;
  Medium ForkImage() const;

  uint64_t size_bytes_;
  PersistencyModel model_;
  Mutant mutant_;
  bool event_log_;
  uint64_t next_event_seq_ = 0;
  uint64_t next_piece_seq_ = 1;  // 0 = "set before any piece" in base_seq
  // The allocated pages (visible contents), ascending index. A sorted vector rather than a map:
  // every crash view copies it (one allocation, not one per page) and a lookup is a binary
  // search; a new page shifts the later entries, which costs little next to zeroing the page.
  std::vector<PageEntry> pages_;
  std::map<uint64_t, PendingPage> pending_pages_;  // page index -> its lines with pending pieces
  std::vector<LineState> line_pool_;
  std::vector<uint32_t> free_line_slots_;
  uint64_t pending_line_count_ = 0;
  mutable uint64_t page_cache_index_ = UINT64_MAX;  // FindPendingPage's one-entry cache
  mutable PendingPage* page_cache_ = nullptr;
  std::vector<LaneState> lanes_;
  std::vector<LazyLine> lazy_lines_;  // unresolved post-crash lines, ascending line index
  // CurrentCrashLines' cache. Reset by every change of a pending line (StoreImpl, Fold); never
  // copied to another medium (a fork has nothing pending).
  mutable std::shared_ptr<CrashLines> crash_lines_;
  std::vector<Event> events_;
};

// Candidate logic shared by eager and lazy crash states (exposed for tests and the explorer).
namespace crash_internal {
using Words = std::array<uint64_t, kWordsPerLine>;
// The distinct candidates of word w given the line's pieces: word8/eadr rule when !prefix_rule,
// else the union over px86 prefixes consistent with `fixed` (words already resolved).
std::vector<uint64_t> Candidates(const Medium::LineView& line, bool prefix_rule, uint32_t word,
                                 const std::array<bool, kWordsPerLine>& fixed_mask,
                                 const Words& fixed_value);
// The same candidates, in the same order, into *out (cleared first), using *scratch for the
// px86 rule's per-prefix candidates: no allocation once the two vectors have grown.
void CandidatesInto(const Medium::LineView& line, bool prefix_rule, uint32_t word,
                    const std::array<bool, kWordsPerLine>& fixed_mask, const Words& fixed_value,
                    std::vector<uint64_t>* out, std::vector<uint64_t>* scratch);
// Distinct post-crash images of a line, in a deterministic order. Returns false (and *images
// incomplete) if there are more than max_images; *upper_bound gets the enumeration size.
bool LineImages(const Medium::LineView& line, bool prefix_rule, uint64_t max_images,
                std::vector<Words>* images, uint64_t* upper_bound);
// The vectors LineImages works in, kept by a caller that asks for many lines.
struct LineImagesScratch {
  std::array<std::vector<uint64_t>, kWordsPerLine> cands;
  std::vector<uint64_t> candidates;
  std::set<Words> seen;
  std::vector<uint32_t> differing;
};
bool LineImages(const Medium::LineView& line, bool prefix_rule, uint64_t max_images,
                std::vector<Words>* images, uint64_t* upper_bound, LineImagesScratch* scratch);
}  // namespace crash_internal

}  // namespace tearproof::sim
