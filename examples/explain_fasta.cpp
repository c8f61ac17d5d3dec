// An example program on libseqattr: explains a FASTA file's sequences with one method and
// prints, per sequence, its prediction and the position with the largest attribution.
//
//   explain_fasta MODEL.pt SEQUENCES.fa [METHOD]
//
// Built in this tree, and against an installed seqattr by tests/install/check_install.sh.
#include <seqattr/seqattr.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.pt SEQUENCES.fa [METHOD]\n", argv[0]);
    return 2;
  }
  const std::string method = argc > 3 ? argv[3] : "integrated_gradients";
  try {
    const auto sequences = seqattr::read_fasta(argv[2]);
    const auto model = seqattr::Explainer::load(argv[1], {}, sequences.one_hot.size(2));
    const auto result = model.explain(method, sequences.one_hot);
    const auto per_position = result.attributions.sum(1);  // (N, L): the observed base's
    for (int64_t i = 0; i < per_position.size(0); ++i) {
      const int64_t peak = per_position[i].abs().argmax().item<int64_t>();
      std::printf("%s\tprediction %.6g\tpeak %lld\t%.6g\n", sequences.names[i].c_str(),
                  result.predictions[i][model.target()].item<double>(),
                  static_cast<long long>(peak), per_position[i][peak].item<double>());
    }
  } catch (const seqattr::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
