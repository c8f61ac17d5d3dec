#include "methods/deeplift/pair_layout.h"

namespace seqattr::deeplift {
namespace {

thread_local const PairLayout* t_layout = nullptr;

}  // namespace

PairLayoutGuard::PairLayoutGuard(PairLayout layout)
    : layout_(std::move(layout)), previous_(t_layout) {
  t_layout = &layout_;
}

PairLayoutGuard::~PairLayoutGuard() { t_layout = previous_; }

const PairLayout* current_pair_layout() { return t_layout; }

}  // namespace seqattr::deeplift
