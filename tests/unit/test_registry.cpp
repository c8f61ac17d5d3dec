// The method registry, option names parsed once, and the library's manners: it leaves
// process-wide state (signal handlers, thread counts) as it found it.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/atomic_output.h"
#include "common/errors.h"
#include "core/device.h"
#include "core/model.h"
#include "methods/path/path_attribution.h"
#include "methods/registry.h"
#include "pipeline/attribute_job.h"
#include "seqattr/seqattr.h"
#include "test_support.h"

namespace seqattr {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Registry, ListsTheMethodsInOrderAndFindsThemByName) {
  const std::vector<std::string> expected = {"gradient",      "input_x_gradient",
                                             "integrated_gradients", "deeplift",
                                             "deeplift_shap", "ism"};
  EXPECT_EQ(method_names(), expected);
  for (const auto& name : expected) EXPECT_EQ(find_method(name).name, name);
  EXPECT_EQ(message_of([] { find_method("shap"); }),
            "--method 'shap': unknown value (known: gradient, input_x_gradient, "
            "integrated_gradients, deeplift, deeplift_shap, ism)");
  // Only the deeplift methods read a references file.
  for (const auto& spec : method_registry()) {
    EXPECT_EQ(spec.takes_references, spec.name == "deeplift" || spec.name == "deeplift_shap");
  }
}

// DEVELOPERS.md "Adding a method", verbatim: a method is one MethodSpec.
MethodSpec double_gradient_method() {
  MethodSpec spec;
  spec.name = "double_gradient";
  spec.validate = [](const MethodOptions& o) {  // options it does not take, set: InputError
    method_checks::no_dinuc_baseline(o);
    method_checks::no_references(o);
    method_checks::no_window(o);
  };
  spec.prepare = [](const MethodOptions& o, const MethodContext& c) {
    PreparedMethod prepared;  // owns or shares all it uses: never a reference to `o` or `c`
    prepared.run = [model = c.model, batch = o.batch_size, target = c.target](
                       const torch::Tensor& one_hot, int64_t, const BlockSink& sink,
                       const ProgressCallback& progress, torch::Tensor*) {
      run_path_attribution(*model, one_hot, gradient_plan(), target, batch,
                           [&](AttributionBlock block) {
                             block.hypothetical *= 2;
                             block.attributions *= 2;
                             sink(block);
                           },
                           progress);
    };
    prepared.notes["double_gradient_factor"] = 2;  // added to the output's parameters
    return prepared;
  };
  spec.cost = [](const MethodOptions&, int64_t, const PreparedMethod&) {
    return MethodCost{2, 1, "none"};
  };
  return spec;
}

// Runs a spec's prepared method on `one_hot`, as the jobs do; the attributions.
torch::Tensor run_spec(const MethodSpec& spec, const std::shared_ptr<Model>& model,
                       const torch::Tensor& one_hot) {
  const MethodOptions options;
  spec.validate(options);
  const auto prepared = spec.prepare(options, {model, 0, 1, one_hot.size(0), one_hot.size(2), {}});
  std::vector<torch::Tensor> blocks;
  prepared.run(one_hot, 0, [&](const AttributionBlock& b) { blocks.push_back(b.attributions); },
               [](int64_t) {}, nullptr);
  return torch::cat(blocks);
}

TEST(Registry, TheDevelopersGuideExampleIsAWorkingMethod) {
  auto model = std::make_shared<Model>(Model::load(test::data_dir() + "/mini_basset.pt", torch::kCPU));
  auto one_hot = torch::zeros({3, 4, 100}, torch::kUInt8);
  one_hot.select(1, 2).fill_(1);
  const auto doubled = run_spec(double_gradient_method(), model, one_hot);
  const auto plain = run_spec(find_method("gradient"), model, one_hot);
  EXPECT_TRUE(torch::equal(doubled, plain * 2));
}

TEST(Registry, EachMethodRejectsTheOptionsItDoesNotTake) {
  MethodOptions window;
  window.ism_start = 5;
  MethodOptions references;
  references.references = "refs.h5";
  MethodOptions dinuc;
  dinuc.baseline = Baseline::DinucShuffle;
  for (const auto& spec : method_registry()) {
    const bool ism = spec.name == "ism", deeplift = spec.name == "deeplift";
    EXPECT_EQ(message_of([&] { spec.validate(window); }).empty(), ism) << spec.name;
    EXPECT_EQ(message_of([&] { spec.validate(references); }).empty(), spec.takes_references)
        << spec.name;
    EXPECT_EQ(message_of([&] { spec.validate(dinuc); }).empty(), deeplift) << spec.name;
    EXPECT_NO_THROW(spec.validate(MethodOptions{})) << spec.name;
  }
}

TEST(Validation, ParsesEveryNameOnceIntoItsEnum) {
  AttributeOptions o;
  o.fasta = "x.fa";
  o.output = "x.h5";
  o.method = "ism";
  o.ism_mode = "fast";
  o.ig_rule = "riemann_trapezoid";
  o.baseline = "uniform";
  o.dtype = "float16";
  o.format = "chrombpnet";
  o.device = "cpu";
  const auto s = validate(o);
  EXPECT_EQ(s.method, "ism");
  EXPECT_EQ(s.method_options.ism_mode, IsmMode::Fast);
  EXPECT_EQ(s.method_options.ig_rule, IgRule::RiemannTrapezoid);
  EXPECT_EQ(s.method_options.baseline, Baseline::Uniform);
  EXPECT_EQ(s.dtype, StoredDtype::Float16);
  EXPECT_EQ(s.format, OutputFormat::ChromBpnet);
  EXPECT_EQ(s.device.kind, DeviceChoice::Kind::Cpu);
  o.ism_mode = "quick";
  EXPECT_EQ(message_of([&] { validate(o); }),
            "--ism-mode 'quick': unknown value (known: naive, fast, auto)");
}

TEST(Validation, DeviceNamesAreCheckedWithoutOverflow) {
  EXPECT_EQ(parse_device("auto").kind, DeviceChoice::Kind::Auto);
  EXPECT_EQ(parse_device("cuda:3").index, 3);
  EXPECT_EQ(parse_device("cuda").index, -1);
  for (const char* bad : {"cuda:99999999999", "cuda:", "cuda:-1", "cuda3", "gpu", "cuda:1x"}) {
    const auto message = message_of([&] { parse_device(bad); });
    EXPECT_EQ(message.rfind("--device '" + std::string(bad) + "': expected auto, cpu, cuda", 0), 0u)
        << bad << ": " << message;
  }
}

TEST(Manners, AtomicOutputsInstallNoSignalHandlerAndManyMayBeLive) {
  test::TempDir dir;
  const auto before = std::signal(SIGINT, SIG_DFL);
  std::signal(SIGINT, before);
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<AtomicOutput>> outputs;
      for (int i = 0; i < 4; ++i) {
        outputs.push_back(std::make_unique<AtomicOutput>(
            dir.path() + "/out" + std::to_string(t) + "_" + std::to_string(i)));
      }
      for (auto& output : outputs) {
        std::ofstream(output->temp_path()) << "x";
        output->commit();
        ++committed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(committed.load(), 32);
  EXPECT_EQ(std::signal(SIGINT, before), before);  // still what it was: the library set none
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 32);  // every output, no temporaries left
}

TEST(Manners, ExplainRestoresTheThreadCount) {
  const int before = torch::get_num_threads();
  auto model = Explainer::load(test::data_dir() + "/mini_basset.pt", {}, 100);
  MethodSettings settings;
  settings.threads = before == 1 ? 2 : 1;
  auto one_hot = torch::zeros({2, 4, 100}, torch::kUInt8);
  one_hot.select(1, 0).fill_(1);
  const auto result = model.explain("gradient", one_hot, settings);
  EXPECT_EQ(torch::get_num_threads(), before);
  EXPECT_EQ(result.attributions.sizes().vec(), (std::vector<int64_t>{2, 4, 100}));
  EXPECT_FALSE(result.convergence_delta.defined());
}

}  // namespace
}  // namespace seqattr
