#include "sim/medium.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <tuple>

#include "util/endian.h"

namespace tearproof::sim {

namespace {

using crash_internal::Words;

uint64_t SatMul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
uint64_t SatAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

void AddDistinct(std::vector<uint64_t>* values, uint64_t v) {
  if (std::find(values->begin(), values->end(), v) == values->end()) values->push_back(v);
}

bool HasNt(const Medium::LineView& line) {
  return std::any_of(line.pending.begin(), line.pending.end(),
                     [](const Medium::Piece& p) { return p.nt(); });
}

// Under the prefix rule with k cached pieces persisted, word w holds val[w] (the latest persisted
// cached piece, or the base) or any non-temporal piece stored after it: a non-temporal store
// persists independently, and the latest persisted piece of a word wins.
void PrefixWordCandidates(const Medium::LineView& line, bool has_nt, const Words& val,
                          const Words& seq, uint32_t w, std::vector<uint64_t>* out) {
  out->clear();
  out->push_back(val[w]);
  if (!has_nt) return;
  for (const Medium::Piece& p : line.pending) {
    if (p.nt() && p.word() == w && p.seq() > seq[w]) AddDistinct(out, p.value);
  }
}

}  // namespace

namespace crash_internal {

void CandidatesInto(const Medium::LineView& line, bool prefix_rule, uint32_t word,
                    const std::array<bool, kWordsPerLine>& fixed_mask, const Words& fixed_value,
                    std::vector<uint64_t>* out, std::vector<uint64_t>* scratch) {
  out->clear();
  if (!prefix_rule) {
    // word8/eadr: words are independent; any stored value (or the base) may be the last to have
    // persisted.
    out->push_back(line.base[word]);
    for (const Medium::Piece& p : line.pending) {
      if (p.word() == word) AddDistinct(out, p.value);
    }
    return;
  }
  // px86: union over the prefixes k that are consistent with every already resolved word.
  const bool has_nt = HasNt(line);
  Words val = line.base;
  Words seq = line.base_seq;
  std::vector<uint64_t>& cands = *scratch;
  auto consider = [&]() {
    if (!has_nt) {
      // Each word's one candidate under this prefix is val (PrefixWordCandidates without
      // non-temporal pieces), so no candidate lists are built.
      for (uint32_t r = 0; r < kWordsPerLine; ++r) {
        if (fixed_mask[r] && val[r] != fixed_value[r]) return;
      }
      AddDistinct(out, val[word]);
      return;
    }
    for (uint32_t r = 0; r < kWordsPerLine; ++r) {
      if (!fixed_mask[r]) continue;
      PrefixWordCandidates(line, has_nt, val, seq, r, &cands);
      if (std::find(cands.begin(), cands.end(), fixed_value[r]) == cands.end()) return;
    }
    PrefixWordCandidates(line, has_nt, val, seq, word, &cands);
    for (uint64_t v : cands) AddDistinct(out, v);
  };
  consider();  // k = 0
  for (const Medium::Piece& p : line.pending) {
    if (p.nt()) continue;
    val[p.word()] = p.value;
    seq[p.word()] = p.seq();
    consider();
  }
  TP_ASSERT(!out->empty(), "INV-SIM-LAZY-CONSISTENT");
}

std::vector<uint64_t> Candidates(const Medium::LineView& line, bool prefix_rule, uint32_t word,
                                 const std::array<bool, kWordsPerLine>& fixed_mask,
                                 const Words& fixed_value) {
  std::vector<uint64_t> out;
  std::vector<uint64_t> scratch;
  CandidatesInto(line, prefix_rule, word, fixed_mask, fixed_value, &out, &scratch);
  return out;
}

bool LineImages(const Medium::LineView& line, bool prefix_rule, uint64_t max_images,
                std::vector<Words>* images, uint64_t* upper_bound) {
  LineImagesScratch scratch;
  return LineImages(line, prefix_rule, max_images, images, upper_bound, &scratch);
}

bool LineImages(const Medium::LineView& line, bool prefix_rule, uint64_t max_images,
                std::vector<Words>* images, uint64_t* upper_bound, LineImagesScratch* scratch) {
  images->clear();
  *upper_bound = 0;
  std::array<std::vector<uint64_t>, kWordsPerLine>& cands = scratch->cands;
  std::set<Words>& seen = scratch->seen;
  seen.clear();
  // Appends img unless images already holds it. A line has a handful of images as a rule, found
  // by a linear search (no allocation); past kLinearDedupe a set of them takes over.
  constexpr size_t kLinearDedupe = 32;
  auto add_distinct = [&](const Words& img) {
    if (images->size() < kLinearDedupe) {
      if (std::find(images->begin(), images->end(), img) == images->end()) images->push_back(img);
      return;
    }
    if (seen.empty()) seen.insert(images->begin(), images->end());
    if (seen.insert(img).second) images->push_back(img);
  };
  // Appends the product of cands to images (skipping images already there when dedupe is set).
  auto product = [&](bool dedupe) {
    std::array<size_t, kWordsPerLine> idx{};
    for (;;) {
      Words img;
      for (uint32_t w = 0; w < kWordsPerLine; ++w) img[w] = cands[w][idx[w]];
      if (dedupe) {
        add_distinct(img);
      } else {
        images->push_back(img);
      }
      uint32_t w = kWordsPerLine;
      while (w > 0) {
        --w;
        if (++idx[w] < cands[w].size()) break;
        idx[w] = 0;
        if (w == 0) return;
      }
    }
  };
  if (!prefix_rule) {
    const std::array<bool, kWordsPerLine> none{};
    uint64_t prod = 1;
    for (uint32_t w = 0; w < kWordsPerLine; ++w) {
      CandidatesInto(line, false, w, none, Words{}, &cands[w], &scratch->candidates);
      prod = SatMul(prod, cands[w].size());
    }
    *upper_bound = prod;
    if (prod > max_images) return false;
    product(/*dedupe=*/false);
    return true;
  }
  const bool has_nt = HasNt(line);
  Words val = line.base;
  Words seq = line.base_seq;
  if (!has_nt) {
    // Without non-temporal pieces prefix k has exactly one image, val after the first k pieces,
    // and consecutive images differ in at most the word the next piece writes. So the images
    // are built word by word, and an image is found again by keeping, for every distinct image
    // so far, the number of words in which it differs from val (0: val is that image): O(1) per
    // image and piece instead of comparing whole lines. Same images, same order as below.
    std::vector<uint32_t>& differing = scratch->differing;
    *upper_bound = 1;
    if (*upper_bound > max_images) return false;
    images->push_back(val);
    differing.assign(1, 0);
    for (const Medium::Piece& p : line.pending) {
      *upper_bound = SatAdd(*upper_bound, 1);
      if (*upper_bound > max_images) return false;
      const uint32_t w = p.word();
      const uint64_t old = val[w];
      if (p.value == old) continue;  // the same image as the prefix before: already there
      val[w] = p.value;
      bool seen_before = false;
      for (size_t i = 0; i < images->size(); ++i) {
        const uint64_t there = (*images)[i][w];
        differing[i] = differing[i] + (p.value != there ? 1 : 0) - (old != there ? 1 : 0);
        seen_before = seen_before || differing[i] == 0;
      }
      if (!seen_before) {
        images->push_back(val);
        differing.push_back(0);
      }
    }
    return true;
  }
  auto prefix = [&]() {
    uint64_t prod = 1;
    for (uint32_t w = 0; w < kWordsPerLine; ++w) {
      PrefixWordCandidates(line, has_nt, val, seq, w, &cands[w]);
      prod = SatMul(prod, cands[w].size());
    }
    *upper_bound = SatAdd(*upper_bound, prod);
    if (*upper_bound > max_images) return false;
    product(/*dedupe=*/true);
    return true;
  };
  if (!prefix()) return false;
  for (const Medium::Piece& p : line.pending) {
    if (p.nt()) continue;
    val[p.word()] = p.value;
    seq[p.word()] = p.seq();
    if (!prefix()) return false;
  }
  return true;
}

}  // namespace crash_internal

// --- Construction and checks -------------------------------------------------------------------

Medium::Medium(uint64_t size_bytes, PersistencyModel model, bool event_log)
    : size_bytes_(size_bytes), model_(model), mutant_(ActiveMutant()), event_log_(event_log) {}

Result<Medium> Medium::Create(const MediumOptions& options) {
  if (options.size_bytes == 0) return InvalidArgument("sim::Medium: size_bytes must be > 0");
  return Medium(options.size_bytes, options.model, options.event_log);
}

Status Medium::CheckLane(LaneId lane) const {
  if (LaneIndex(lane) >= kMaxLanes) {
    return InvalidArgument("sim::Medium: lane " + std::to_string(LaneIndex(lane)) +
                           " >= kMaxLanes (" + std::to_string(kMaxLanes) + ")");
  }
  return Status::Ok();
}

Status Medium::CheckRange(uint64_t addr, uint64_t size_bytes, const char* op) const {
  if (addr > size_bytes_ || size_bytes > size_bytes_ - addr) {
    return OutOfRange(std::string("sim::Medium: ") + op + " of " + std::to_string(size_bytes) +
                      " bytes at " + std::to_string(addr) + " outside medium of " +
                      std::to_string(size_bytes_) + " bytes");
  }
  return Status::Ok();
}

void Medium::AppendEvent(uint64_t seq, EventKind kind, LaneId lane, uint64_t addr,
                         std::span<const std::byte> data) {
  Event e;
  e.seq = seq;
  e.kind = kind;
  e.lane = lane;
  e.addr = addr;
  e.data.assign(data.begin(), data.end());
  events_.push_back(std::move(e));
}

Medium::LaneState& Medium::Lanes(LaneId lane) {
  const uint32_t i = LaneIndex(lane);
  if (i >= lanes_.size()) lanes_.resize(i + 1);
  return lanes_[i];
}

bool Medium::UsesPrefixRule() const {
  return model_ == PersistencyModel::kPx86 && mutant_ != Mutant::kPx86NoPrefix;
}

// --- Pages ---------------------------------------------------------------------------------------

std::vector<Medium::PageEntry>::const_iterator Medium::FindPage(uint64_t page_index) const {
  return std::lower_bound(
      pages_.begin(), pages_.end(), page_index,
      [](const PageEntry& entry, uint64_t index) { return entry.first < index; });
}

std::byte* Medium::MutablePage(uint64_t page_index) {
  const auto found = FindPage(page_index);
  auto it = pages_.begin() + (found - pages_.cbegin());
  if (it == pages_.end() || it->first != page_index) {
    it = pages_.emplace(it, page_index, std::make_shared<Page>());
  } else if (it->second.use_count() > 1) {
    // Copy-on-write: another Medium (a crash state or its parent) shares this page.
    it->second = std::make_shared<Page>(*it->second);
  }
  return it->second->bytes.data();
}

const std::byte* Medium::PageOrNull(uint64_t page_index) const {
  const auto it = FindPage(page_index);
  return it == pages_.end() || it->first != page_index ? nullptr : it->second->bytes.data();
}

uint64_t Medium::ReadWord(uint64_t word_addr) const {
  const std::byte* page = PageOrNull(word_addr / kPageBytes);
  return page == nullptr ? 0 : LoadLe64(page + word_addr % kPageBytes);
}

void Medium::WriteWord(uint64_t word_addr, uint64_t value) {
  StoreLe(MutablePage(word_addr / kPageBytes) + word_addr % kPageBytes, value);
}

void Medium::ReadLineWords(uint64_t line, Words* words) const {
  const std::byte* page = PageOrNull(line * kLineBytes / kPageBytes);
  for (uint32_t w = 0; w < kWordsPerLine; ++w) {
    (*words)[w] =
        page == nullptr ? 0 : LoadLe64(page + (line * kLineBytes) % kPageBytes + w * kWordBytes);
  }
}

// --- Operations ----------------------------------------------------------------------------------

Status Medium::Load(LaneId lane, uint64_t addr, std::span<std::byte> out) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  TP_RETURN_IF_ERROR(CheckRange(addr, out.size(), "load"));
  if (out.empty()) return Status::Ok();
  if (!lazy_lines_.empty()) ResolveLazyWords(addr, out.size(), /*whole_lines=*/false);
  uint64_t done = 0;
  while (done < out.size()) {
    const uint64_t a = addr + done;
    const uint64_t chunk = std::min<uint64_t>(out.size() - done, kPageBytes - a % kPageBytes);
    const std::byte* page = PageOrNull(a / kPageBytes);
    if (page == nullptr) {
      std::memset(out.data() + done, 0, chunk);  // never-written memory reads as zero
    } else {
      std::memcpy(out.data() + done, page + a % kPageBytes, chunk);
    }
    done += chunk;
  }
  return Status::Ok();
}

Status Medium::Store(LaneId lane, uint64_t addr, std::span<const std::byte> data) {
  return StoreImpl(lane, addr, data, /*nt=*/false);
}

Status Medium::StoreNt(LaneId lane, uint64_t addr, std::span<const std::byte> data) {
  return StoreImpl(lane, addr, data, /*nt=*/true);
}

Result<uint64_t> Medium::Load64(LaneId lane, uint64_t addr) {
  std::array<std::byte, 8> b;
  TP_RETURN_IF_ERROR(Load(lane, addr, b));
  return LoadLe64(b.data());
}

Status Medium::Store64(LaneId lane, uint64_t addr, uint64_t value) {
  std::array<std::byte, 8> b;
  StoreLe(b.data(), value);
  return Store(lane, addr, b);
}

Status Medium::StoreImpl(LaneId lane, uint64_t addr, std::span<const std::byte> data, bool nt) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  TP_RETURN_IF_ERROR(CheckRange(addr, data.size(), nt ? "store_nt" : "store"));
  if (data.empty()) return Status::Ok();
  crash_lines_.reset();  // the pending lines change
  // A store to a line still unresolved after a lazy crash needs the line's post-crash contents
  // (as the base of the new pieces and for the bytes this store does not cover).
  if (!lazy_lines_.empty()) ResolveLazyWords(addr, data.size(), /*whole_lines=*/true);
  Record(nt ? EventKind::kStoreNt : EventKind::kStore, lane, addr, data);

  // eADR: a visible cached store is durable at once. Mutants may declare more stores durable.
  const bool durable_now = (!nt && model_ == PersistencyModel::kEadr) ||
                           (nt && mutant_ == Mutant::kNtDurable) ||
                           (data.size() > kWordBytes && mutant_ == Mutant::kWideStoreAtomic);
  const uint64_t end = addr + data.size();
  // Piece::Make packs seq into 48 bits and the lane into 8 (CheckLane bounds it by kMaxLanes).
  static_assert(kMaxLanes <= 256);
  TP_ASSERT(next_piece_seq_ + data.size() < (uint64_t{1} << 48), "INV-SIM-PIECE-PACK");
  uint64_t page_index = UINT64_MAX;
  std::byte* page = nullptr;
  for (uint64_t line = addr / kLineBytes; line <= (end - 1) / kLineBytes; ++line) {
    const uint64_t line_addr = line * kLineBytes;
    if (line_addr / kPageBytes != page_index) {
      page_index = line_addr / kPageBytes;
      page = MutablePage(page_index);
    }
    std::byte* line_bytes = page + line_addr % kPageBytes;
    const uint64_t lo = std::max(addr, line_addr);
    const uint64_t hi = std::min(end, line_addr + kLineBytes);
    const uint64_t first_word = (lo - line_addr) / kWordBytes;
    const uint64_t last_word = (hi - 1 - line_addr) / kWordBytes;
    const uint64_t first_seq = next_piece_seq_;
    next_piece_seq_ += last_word - first_word + 1;
    LineState* state = FindLine(line);
    if (state == nullptr && !durable_now) {
      // A store that leaves every byte of a line with nothing unguaranteed as it is makes nothing
      // unguaranteed: each of its pieces would equal its word's guaranteed value, so every crash
      // image of the line is its contents now, in every model, whatever is stored to it later
      // (a prefix of such pieces adds no image). Skipping the line record changes no crash state
      // (sim/medium_prop_test.cc compares them with the reference enumerator) and spares
      // Btt::Format, which zeroes fresh memory, most of its cost.
      if (std::memcmp(line_bytes + (lo - line_addr), data.data() + (lo - addr), hi - lo) == 0) {
        continue;
      }
      // First unguaranteed store to this line: its current contents are its guaranteed point.
      state = CreateLine(line);
      for (uint32_t w = 0; w < kWordsPerLine; ++w) {
        state->base[w] = LoadLe64(line_bytes + w * kWordBytes);
      }
    }
    std::memcpy(line_bytes + (lo - line_addr), data.data() + (lo - addr), hi - lo);
    if (state == nullptr) continue;  // durable at once and nothing pending here
    // Split into whole-word pieces in ascending address order: a sub-word store yields the new
    // whole-word value, so every piece is one untearable aligned 8-byte value.
    const size_t old_size = state->pending.size();
    state->pending.resize(old_size + (last_word - first_word + 1));
    Piece* out = state->pending.data() + old_size;
    for (uint64_t w = first_word; w <= last_word; ++w) {
      *out++ = Piece::Make(first_seq + (w - first_word), LoadLe64(line_bytes + w * kWordBytes),
                           LaneIndex(lane), static_cast<uint32_t>(w), nt);
    }
    if (durable_now) {
      Fold(line, *state, [first_seq](const Piece& p) { return p.seq() >= first_seq; });
    } else if (nt) {
      Lanes(lane).nt_lines.push_back(line);
    }
  }
  return Status::Ok();
}

Medium::LineState* Medium::FindLine(uint64_t line) {
  return const_cast<LineState*>(static_cast<const Medium*>(this)->FindLine(line));
}

Medium::PendingPage* Medium::FindPendingPage(uint64_t page_index) const {
  // A one-entry cache: consecutive operations mostly touch the lines of one page. Map nodes are
  // stable, and EraseLine drops the cache entry before erasing its node.
  if (page_index == page_cache_index_) return page_cache_;
  auto it = pending_pages_.find(page_index);
  if (it == pending_pages_.end()) return nullptr;
  page_cache_index_ = page_index;
  page_cache_ = const_cast<PendingPage*>(&it->second);
  return page_cache_;
}

const Medium::LineState* Medium::FindLine(uint64_t line) const {
  if (pending_line_count_ == 0) return nullptr;
  const PendingPage* page = FindPendingPage(line / kLinesPerPage);
  if (page == nullptr) return nullptr;
  const uint32_t slot = page->slot[line % kLinesPerPage];
  return slot == 0 ? nullptr : &line_pool_[slot - 1];
}

Medium::LineState* Medium::CreateLine(uint64_t line) {
  PendingPage* cached = FindPendingPage(line / kLinesPerPage);
  PendingPage& page = cached != nullptr ? *cached : pending_pages_[line / kLinesPerPage];
  uint32_t& slot = page.slot[line % kLinesPerPage];
  TP_ASSERT(slot == 0, "INV-SIM-LINE-UNIQUE");
  uint32_t index;
  if (!free_line_slots_.empty()) {
    index = free_line_slots_.back();
    free_line_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(line_pool_.size());
    line_pool_.emplace_back();
    line_pool_.back().pending.reserve(kWordsPerLine);
  }
  slot = index + 1;
  ++page.count;
  ++pending_line_count_;
  LineState& state = line_pool_[index];
  // base is set by the caller (the line's current contents).
  state.base_seq = {};
  state.pending.clear();  // keeps its capacity: no allocation in the steady state
  return &state;
}

void Medium::EraseLine(uint64_t line) {
  PendingPage* page = FindPendingPage(line / kLinesPerPage);
  TP_ASSERT(page != nullptr, "INV-SIM-LINE-UNIQUE");
  uint32_t& slot = page->slot[line % kLinesPerPage];
  TP_ASSERT(slot != 0, "INV-SIM-LINE-UNIQUE");
  free_line_slots_.push_back(slot - 1);
  slot = 0;
  --pending_line_count_;
  if (--page->count == 0) {
    page_cache_index_ = UINT64_MAX;
    page_cache_ = nullptr;
    pending_pages_.erase(line / kLinesPerPage);
  }
}

template <typename Visit>
void Medium::ForEachPendingLine(Visit&& visit) const {
  for (const auto& [page_index, page] : pending_pages_) {
    for (uint64_t i = 0; i < kLinesPerPage; ++i) {
      if (page.slot[i] != 0) visit(page_index * kLinesPerPage + i, line_pool_[page.slot[i] - 1]);
    }
  }
}

std::vector<std::pair<uint64_t, const Medium::LineState*>> Medium::PendingLines() const {
  std::vector<std::pair<uint64_t, const LineState*>> out;
  out.reserve(pending_line_count_);
  ForEachPendingLine([&](uint64_t line, const LineState& ls) { out.emplace_back(line, &ls); });
  return out;
}

template <typename Pred>
void Medium::Fold(uint64_t line, LineState& ls, Pred pred) {
  crash_lines_.reset();  // the pending lines change
  // Common case (store; clwb; sfence): every pending piece becomes guaranteed. The line then
  // leaves the pending set and its visible contents are its guaranteed contents.
  if (std::all_of(ls.pending.begin(), ls.pending.end(), pred)) {
    EraseLine(line);
    return;
  }
  for (const Piece& p : ls.pending) {
    if (pred(p)) {
      ls.base[p.word()] = p.value;  // ascending seq: the latest guaranteed piece of a word wins
      ls.base_seq[p.word()] = p.seq();
    }
  }
  // A pending piece older than its word's guaranteed value can no longer be observed after a
  // crash (a word holds its latest persisted piece), so it is dropped.
  std::erase_if(ls.pending,
                [&](const Piece& p) { return pred(p) || p.seq() < ls.base_seq[p.word()]; });
  if (ls.pending.empty()) EraseLine(line);
}

Status Medium::Clflush(LaneId lane, uint64_t addr) {
  return FlushImpl(lane, addr, EventKind::kClflush);
}
Status Medium::Clflushopt(LaneId lane, uint64_t addr) {
  return FlushImpl(lane, addr, EventKind::kClflushopt);
}
Status Medium::Clwb(LaneId lane, uint64_t addr) { return FlushImpl(lane, addr, EventKind::kClwb); }
Status Medium::ClflushRange(LaneId lane, uint64_t addr, uint64_t size_bytes) {
  return FlushRangeImpl(lane, addr, size_bytes, EventKind::kClflush);
}
Status Medium::ClflushoptRange(LaneId lane, uint64_t addr, uint64_t size_bytes) {
  return FlushRangeImpl(lane, addr, size_bytes, EventKind::kClflushopt);
}
Status Medium::ClwbRange(LaneId lane, uint64_t addr, uint64_t size_bytes) {
  return FlushRangeImpl(lane, addr, size_bytes, EventKind::kClwb);
}

Status Medium::FlushImpl(LaneId lane, uint64_t addr, EventKind kind) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  TP_RETURN_IF_ERROR(CheckRange(addr, 1, EventKindName(kind)));
  FlushLine(lane, addr, kind);
  return Status::Ok();
}

void Medium::FlushLine(LaneId lane, uint64_t addr, EventKind kind) {
  Record(kind, lane, addr, {});
  // Under eADR cached stores are already durable; flushes never affect non-temporal stores.
  if (model_ == PersistencyModel::kEadr) return;
  const uint64_t line = addr / kLineBytes;
  LineState* state = FindLine(line);
  if (state == nullptr) return;  // nothing unguaranteed in this line
  if (kind == EventKind::kClflush && mutant_ != Mutant::kClflushUnordered) {
    // clflush is ordered with every later store on its own, so treating it as synchronous loses
    // no behaviour (Khyzha & Lahav, POPL 2021): the line's cached pieces are guaranteed now.
    Fold(line, *state, [](const Piece& p) { return !p.nt(); });
    return;
  }
  // clwb/clflushopt: the line's current contents become guaranteed at this lane's next fence.
  // Pieces are numbered globally, so the snapshot is "every cached piece up to now".
  const bool has_cached = std::any_of(state->pending.begin(), state->pending.end(),
                                      [](const Piece& p) { return !p.nt(); });
  if (has_cached) Lanes(lane).snapshots.emplace_back(line, next_piece_seq_ - 1);
}

Status Medium::FlushRangeImpl(LaneId lane, uint64_t addr, uint64_t size_bytes, EventKind kind) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  TP_RETURN_IF_ERROR(CheckRange(addr, size_bytes, EventKindName(kind)));
  if (size_bytes == 0) return Status::Ok();
  for (uint64_t line = addr / kLineBytes; line <= (addr + size_bytes - 1) / kLineBytes; ++line) {
    // Line starts are in range: the first is <= addr, the others < addr + size_bytes.
    FlushLine(lane, std::max(addr, line * kLineBytes), kind);
  }
  return Status::Ok();
}

Status Medium::Sfence(LaneId lane) { return FenceImpl(lane, EventKind::kSfence); }
Status Medium::Mfence(LaneId lane) { return FenceImpl(lane, EventKind::kMfence); }

Status Medium::FenceImpl(LaneId lane, EventKind kind) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  Record(kind, lane, 0, {});
  const uint32_t me = LaneIndex(lane);
  if (me >= lanes_.size() && mutant_ != Mutant::kSfenceAllLanes) return Status::Ok();
  // The fence completes this lane's clwb/clflushopt snapshots (the cached pieces of the line up
  // to the snapshot; under px86 a prefix of the line) and drains its non-temporal stores. Folding
  // snapshot by snapshot equals folding their union: a piece older than an already guaranteed
  // piece of its word has been dropped.
  for (uint32_t i = 0; i < lanes_.size(); ++i) {
    if (i != me && mutant_ != Mutant::kSfenceAllLanes) continue;
    for (const auto& [line, snap] : lanes_[i].snapshots) {
      if (LineState* state = FindLine(line); state != nullptr) {
        const uint64_t s = snap;
        Fold(line, *state, [s](const Piece& p) { return !p.nt() && p.seq() <= s; });
      }
    }
    lanes_[i].snapshots.clear();
  }
  if (me < lanes_.size()) {
    for (uint64_t line : lanes_[me].nt_lines) {
      if (LineState* state = FindLine(line); state != nullptr) {
        Fold(line, *state, [me](const Piece& p) { return p.nt() && p.lane() == me; });
      }
    }
    lanes_[me].nt_lines.clear();
  }
  return Status::Ok();
}

Status Medium::Persist(LaneId lane, uint64_t addr, uint64_t size_bytes) {
  TP_RETURN_IF_ERROR(CheckLane(lane));
  TP_RETURN_IF_ERROR(CheckRange(addr, size_bytes, "persist"));
  if (size_bytes == 0) return Status::Ok();
  const uint64_t first_line = addr / kLineBytes;
  const uint64_t last_line = (addr + size_bytes - 1) / kLineBytes;
  if (model_ == PersistencyModel::kEadr || mutant_ != Mutant::kNone) {
    for (uint64_t line = first_line; line <= last_line; ++line) {
      FlushLine(lane, std::max(addr, line * kLineBytes), EventKind::kClwb);
    }
    return FenceImpl(lane, EventKind::kSfence);
  }
  // Same events and the same outcome as clwb of every line then sfence, without queueing the
  // snapshots: nothing runs between them, so each snapshot is "every cached piece of the line
  // now", and the fence guarantees exactly those (plus this lane's earlier snapshots and
  // non-temporal stores, handled by FenceImpl).
  for (uint64_t line = first_line; line <= last_line; ++line) {
    Record(EventKind::kClwb, lane, std::max(addr, line * kLineBytes), {});
    if (LineState* state = FindLine(line); state != nullptr) {
      Fold(line, *state, [](const Piece& p) { return !p.nt(); });
    }
  }
  return FenceImpl(lane, EventKind::kSfence);
}

Status Medium::Apply(const Event& event) {
  switch (event.kind) {
    case EventKind::kStore: return Store(event.lane, event.addr, event.data);
    case EventKind::kStoreNt: return StoreNt(event.lane, event.addr, event.data);
    case EventKind::kClflush:
    case EventKind::kClflushopt:
    case EventKind::kClwb: return FlushImpl(event.lane, event.addr, event.kind);
    case EventKind::kSfence:
    case EventKind::kMfence: return FenceImpl(event.lane, event.kind);
  }
  return InvalidArgument("sim::Medium::Apply: unknown event kind");
}

// --- Crash states --------------------------------------------------------------------------------

namespace {
constexpr uint64_t kMaxCountedImagesPerLine = uint64_t{1} << 16;
}  // namespace

CrashSpaceSize Medium::CrashSpace() const {
  CrashSpaceSize size;
  const bool prefix = UsesPrefixRule();
  std::vector<Words> images;
  crash_internal::LineImagesScratch scratch;  // one for every line: no allocation per line
  ForEachPendingLine([&](uint64_t, const LineState& ls) {
    uint64_t count = 1;
    double log2 = 0;
    if (!prefix) {
      // Independent words: the product of the per-word candidate counts is exact.
      const std::array<bool, kWordsPerLine> none{};
      for (uint32_t w = 0; w < kWordsPerLine; ++w) {
        crash_internal::CandidatesInto(ls, false, w, none, Words{}, &scratch.cands[0],
                                       &scratch.candidates);
        const size_t n = scratch.cands[0].size();
        count = SatMul(count, n);
        log2 += std::log2(static_cast<double>(n));
      }
    } else {
      uint64_t upper = 0;
      if (crash_internal::LineImages(ls, true, kMaxCountedImagesPerLine, &images, &upper,
                                     &scratch)) {
        count = images.size();
      } else {
        count = upper;
        size.exact = false;
      }
      log2 = std::log2(static_cast<double>(count));
    }
    if (size.count != UINT64_MAX && SatMul(size.count, count) == UINT64_MAX) size.saturated = true;
    size.count = SatMul(size.count, count);
    size.log2 += log2;
  });
  return size;
}

Result<uint64_t> Medium::ForEachCrashState(const std::function<bool(const CrashState&)>& visit,
                                           uint64_t max_states) const {
  const bool prefix = UsesPrefixRule();
  std::vector<std::vector<Words>> per_line;
  crash_internal::LineImagesScratch scratch;
  CrashState state;
  for (const auto& [line, ls_ptr] : PendingLines()) {
    const LineState& ls = *ls_ptr;
    std::vector<Words> images;
    uint64_t upper = 0;
    if (!crash_internal::LineImages(ls, prefix, max_states, &images, &upper, &scratch)) {
      return Unsupported("sim::Medium: line at " + std::to_string(line * kLineBytes) + " has " +
                         std::to_string(upper) + " crash images, more than max_states " +
                         std::to_string(max_states));
    }
    per_line.push_back(std::move(images));
    state.lines.push_back(CrashLineImage{line * kLineBytes, per_line.back()[0]});
  }
  // Odometer over the lines' images (lines are independent in every model).
  std::vector<size_t> idx(per_line.size(), 0);
  uint64_t visited = 0;
  while (visited < max_states) {
    ++visited;
    if (!visit(state)) break;
    size_t i = per_line.size();
    bool done = true;
    while (i > 0) {
      --i;
      if (++idx[i] < per_line[i].size()) {
        state.lines[i].words = per_line[i][idx[i]];
        done = false;
        break;
      }
      idx[i] = 0;
      state.lines[i].words = per_line[i][0];
    }
    if (done) break;
  }
  return visited;
}

CrashState Medium::DrawCrashState(uint64_t seed) const {
  Prng prng(seed);
  const bool prefix = UsesPrefixRule();
  const std::array<bool, kWordsPerLine> none{};
  CrashState state;
  for (const auto& [line, ls_ptr] : PendingLines()) {
    const LineState& ls = *ls_ptr;
    Words img = ls.base;
    if (prefix) {
      uint64_t cached = 0;
      for (const Piece& p : ls.pending) cached += !p.nt();
      const uint64_t k = prng.Below(cached + 1);
      uint64_t taken = 0;
      for (const Piece& p : ls.pending) {
        const bool take = p.nt() ? prng.Chance(1, 2) : taken++ < k;
        if (take) img[p.word()] = p.value;  // ascending seq: the latest persisted piece wins
      }
    } else {
      for (uint32_t w = 0; w < kWordsPerLine; ++w) {
        const std::vector<uint64_t> c = crash_internal::Candidates(ls, false, w, none, Words{});
        img[w] = c[prng.Below(c.size())];
      }
    }
    state.lines.push_back(CrashLineImage{line * kLineBytes, img});
  }
  return state;
}

CrashState Medium::GuaranteedState() const {
  CrashState state;
  for (const auto& [line, ls_ptr] : PendingLines()) {
    const LineState& ls = *ls_ptr;
    state.lines.push_back(CrashLineImage{line * kLineBytes, ls.base});
  }
  return state;
}

Medium Medium::ForkImage() const {
  Medium m(size_bytes_, model_, event_log_);
  m.mutant_ = mutant_;
  m.pages_ = pages_;            // shared copy-on-write
  m.lazy_lines_ = lazy_lines_;  // their crash records are shared: one resolution per crash
  return m;
}

Medium Medium::MaterializeCrash(const CrashState& state) const {
  Medium m = ForkImage();
  size_t i = 0;
  for (const auto& [line, ls_ptr] : PendingLines()) {
    const LineState& ls = *ls_ptr;
    const uint64_t line_addr = line * kLineBytes;
    while (i < state.lines.size() && state.lines[i].line_addr < line_addr) ++i;
    const Words& img = (i < state.lines.size() && state.lines[i].line_addr == line_addr)
                           ? state.lines[i].words
                           : ls.base;
    std::byte* page = m.MutablePage(line_addr / kPageBytes);
    for (uint32_t w = 0; w < kWordsPerLine; ++w) {
      StoreLe(page + line_addr % kPageBytes + w * kWordBytes, img[w]);
    }
  }
  return m;
}

const std::shared_ptr<Medium::CrashLines>& Medium::CurrentCrashLines() const {
  if (crash_lines_ != nullptr) return crash_lines_;
  auto lines = std::make_shared<CrashLines>();
  lines->prefix_rule = UsesPrefixRule();
  lines->lines.reserve(pending_line_count_);
  size_t piece_count = 0;
  ForEachPendingLine([&](uint64_t, const LineState& ls) { piece_count += ls.pending.size(); });
  lines->pieces.reserve(piece_count);
  ForEachPendingLine([&](uint64_t, const LineState& ls) {
    CrashLines::Line& l = lines->lines.emplace_back();
    l.base = ls.base;
    l.base_seq = ls.base_seq;
    l.first_piece = static_cast<uint32_t>(lines->pieces.size());
    l.piece_count = static_cast<uint32_t>(ls.pending.size());
    lines->pieces.insert(lines->pieces.end(), ls.pending.begin(), ls.pending.end());
  });
  crash_lines_ = std::move(lines);
  return crash_lines_;
}

Medium Medium::LazyCrash(std::shared_ptr<CrashChooser> chooser) const {
  TP_ASSERT(chooser != nullptr, "INV-SIM-LAZY-CHOOSER");
  Medium m = ForkImage();
  if (pending_line_count_ == 0) return m;
  auto crash = std::make_shared<LazyCrashLines>();
  crash->lines = CurrentCrashLines();
  crash->chooser = std::move(chooser);
  crash->resolution.resize(pending_line_count_);
  // The lines still unresolved from an earlier crash (a nested crash) are not pending here (a
  // store resolves its line first), so the new lines interleave with them: merged by line.
  const size_t earlier = m.lazy_lines_.size();
  m.lazy_lines_.reserve(earlier + pending_line_count_);
  uint32_t index = 0;
  ForEachPendingLine([&](uint64_t line, const LineState&) {
    m.lazy_lines_.push_back(LazyLine{line, crash, index++, {}});
  });
  std::inplace_merge(
      m.lazy_lines_.begin(), m.lazy_lines_.begin() + static_cast<std::ptrdiff_t>(earlier),
      m.lazy_lines_.end(), [](const LazyLine& a, const LazyLine& b) { return a.line < b.line; });
  return m;
}

void Medium::ResolveShared(uint64_t line, LazyCrashLines& crash, uint32_t index, uint32_t word) {
  CrashLines& lines = *crash.lines;
  CrashLines::Line& l = lines.lines[index];
  LazyCrashLines::Resolution& r = crash.resolution[index];
  const LineView view(l.base, l.base_seq,
                      std::span(lines.pieces).subspan(l.first_piece, l.piece_count));
  std::span<const uint64_t> cands;
  if (!lines.prefix_rule) {
    // Independent words: the candidates depend on the pieces alone, so every crash of these
    // lines shares them (computed by the first crash that reads the word).
    if (l.candidate_count[word] == 0) {
      const std::array<bool, kWordsPerLine> none{};
      crash_internal::CandidatesInto(view, false, word, none, Words{}, &crash.candidates,
                                     &crash.scratch);
      l.first_candidate[word] = static_cast<uint32_t>(lines.candidates.size());
      l.candidate_count[word] = static_cast<uint32_t>(crash.candidates.size());
      lines.candidates.insert(lines.candidates.end(), crash.candidates.begin(),
                              crash.candidates.end());
    }
    cands = std::span(lines.candidates).subspan(l.first_candidate[word], l.candidate_count[word]);
  } else {
    crash_internal::CandidatesInto(view, true, word, r.resolved, r.value, &crash.candidates,
                                   &crash.scratch);
    cands = crash.candidates;
  }
  uint32_t index_chosen = 0;
  if (cands.size() > 1) {
    index_chosen = crash.chooser->Choose(line * kLineBytes + word * kWordBytes,
                                         static_cast<uint32_t>(cands.size()));
  }
  TP_ASSERT(index_chosen < cands.size(), "INV-SIM-CHOOSER-INDEX");
  r.resolved[word] = true;
  r.value[word] = cands[index_chosen];
}

void Medium::ResolveLazyWords(uint64_t addr, uint64_t size_bytes, bool whole_lines) {
  const uint64_t first_line = addr / kLineBytes;
  const uint64_t last_line = (addr + size_bytes - 1) / kLineBytes;
  const auto first =
      std::lower_bound(lazy_lines_.begin(), lazy_lines_.end(), first_line,
                       [](const LazyLine& lazy, uint64_t line) { return lazy.line < line; });
  auto it = first;
  bool any_complete = false;
  for (; it != lazy_lines_.end() && it->line <= last_line; ++it) {
    LazyLine& lazy = *it;
    const uint64_t line = lazy.line;
    LazyCrashLines& crash = *lazy.crash;
    const LazyCrashLines::Resolution& shared = crash.resolution[lazy.index];
    uint64_t w_lo = 0, w_hi = kWordsPerLine - 1;
    if (!whole_lines) {
      w_lo = (std::max(addr, line * kLineBytes) - line * kLineBytes) / kWordBytes;
      w_hi = (std::min(addr + size_bytes, (line + 1) * kLineBytes) - 1 - line * kLineBytes) /
             kWordBytes;
    }
    std::byte* line_bytes = nullptr;  // this medium's copy of the line, made writable once
    // Ascending word order: the order of choices is part of the odometer's determinism.
    for (uint64_t w = w_lo; w <= w_hi; ++w) {
      if (!shared.resolved[w]) ResolveShared(line, crash, lazy.index, static_cast<uint32_t>(w));
      if (!lazy.applied[w]) {
        if (line_bytes == nullptr) {
          const uint64_t line_addr = line * kLineBytes;
          line_bytes = MutablePage(line_addr / kPageBytes) + line_addr % kPageBytes;
        }
        StoreLe(line_bytes + w * kWordBytes, shared.value[w]);
        lazy.applied[w] = true;
      }
    }
    any_complete = any_complete ||
                   std::all_of(lazy.applied.begin(), lazy.applied.end(), [](bool b) { return b; });
  }
  if (any_complete) {
    // A line whose every word is in this medium's page is no longer lazy here.
    const auto kept = std::remove_if(first, it, [](const LazyLine& lazy) {
      return std::all_of(lazy.applied.begin(), lazy.applied.end(), [](bool b) { return b; });
    });
    lazy_lines_.erase(kept, it);
  }
}

std::vector<uint64_t> Medium::WordCandidates(uint64_t word_addr) const {
  const uint64_t line = word_addr / kLineBytes;
  const uint32_t w = static_cast<uint32_t>((word_addr % kLineBytes) / kWordBytes);
  const std::array<bool, kWordsPerLine> none{};
  if (const LineState* state = FindLine(line); state != nullptr) {
    return crash_internal::Candidates(*state, false, w, none, Words{});
  }
  const auto it = std::lower_bound(lazy_lines_.begin(), lazy_lines_.end(), line,
                                   [](const LazyLine& lazy, uint64_t l) { return lazy.line < l; });
  if (it != lazy_lines_.end() && it->line == line) {
    const LazyCrashLines& crash = *it->crash;
    const LazyCrashLines::Resolution& r = crash.resolution[it->index];
    if (r.resolved[w]) return {r.value[w]};
    const CrashLines::Line& l = crash.lines->lines[it->index];
    const LineView view(l.base, l.base_seq,
                        std::span(crash.lines->pieces).subspan(l.first_piece, l.piece_count));
    return crash_internal::Candidates(view, false, w, none, Words{});
  }
  return {ReadWord(word_addr - word_addr % kWordBytes)};
}

}  // namespace tearproof::sim
