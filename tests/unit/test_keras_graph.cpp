// The Keras model_config reader (core/keras/keras_graph.h): what it builds from chrombpnet's
// layers and what it refuses. The whole import is checked against TensorFlow and bpnet-lite
// in tests/cli/test_keras.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "core/keras/keras_graph.h"

namespace seqattr::keras {
namespace {

using nlohmann::json;

json layer(const std::string& cls, const std::string& name, const json& config,
           const std::vector<std::string>& inputs) {
  json node = json::array();
  for (const auto& input : inputs) node.push_back({input, 0, 0, json::object()});
  json entry = {{"class_name", cls}, {"name", name}, {"config", config}};
  entry["inbound_nodes"] = inputs.empty() ? json::array() : json::array({node});
  return entry;
}

json input(int64_t length) {
  return layer("InputLayer", "sequence", {{"batch_input_shape", {nullptr, length, 4}}}, {});
}

json conv(const std::string& name, int64_t filters, int64_t width, int64_t dilation,
          const std::string& input, const std::string& padding = "valid") {
  return layer("Conv1D", name,
               {{"filters", filters}, {"kernel_size", {width}}, {"dilation_rate", {dilation}},
                {"strides", {1}}, {"padding", padding}, {"activation", "relu"}},
               {input});
}

std::string model(const json& layers, const std::vector<std::string>& outputs) {
  json out = json::array();
  for (const auto& o : outputs) out.push_back({o, 0, 0});
  return json{{"class_name", "Functional"},
              {"config", {{"layers", layers}, {"input_layers", {{"sequence", 0, 0}}},
                          {"output_layers", out}}}}
      .dump();
}

void expect_error(const std::string& config, const std::string& fragment) {
  try {
    parse_graph(config, "m.h5");
    FAIL() << "no error; expected one with: " << fragment;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << fragment << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("--model 'm.h5'"), std::string::npos) << e.what();
  }
}

TEST(KerasGraph, ResidualBlockShapesAndHeads) {
  const json layers = {input(100), conv("c1", 8, 21, 1, "sequence"), conv("c2", 8, 3, 2, "c1"),
                       layer("Cropping1D", "crop", {{"cropping", {2, 2}}}, {"c1"}),
                       layer("Add", "add", json::object(), {"c2", "crop"}),
                       layer("GlobalAveragePooling1D", "gap", json::object(), {"add"}),
                       layer("Dense", "logcount_predictions", {{"units", 1}}, {"gap"}),
                       layer("Flatten", "logits_profile_predictions", json::object(), {"add"})};
  const auto graph = parse_graph(model(layers, {"logits_profile_predictions",
                                                "logcount_predictions"}), "m.h5");
  EXPECT_EQ(graph.input_length, 100);
  EXPECT_EQ(graph.heads, (std::vector<std::string>{"profile", "counts"}));
  const Layer& add = graph.layers.at(4);
  EXPECT_EQ(add.op, Op::Add);
  EXPECT_EQ(add.shape.length, 100 - 20 - 4);
  EXPECT_EQ(graph.layers.back().shape.channels, 8 * 76);  // flattened (L, C)
}

TEST(KerasGraph, RefusesWhatItCannotBuildExactly) {
  const json in = input(100);
  expect_error(model({in, layer("BatchNormalization", "bn", json::object(), {"sequence"})}, {"bn"}),
               "layer 'bn' is a BatchNormalization");
  expect_error(model({in, conv("c", 4, 4, 1, "sequence", "same")}, {"c"}), "even kernel span");
  expect_error(model({in, conv("c", 4, 3, 1, "sequence", "causal")}, {"c"}), "padding 'causal'");
  json sigmoid = conv("c", 4, 3, 1, "sequence");
  sigmoid["config"]["activation"] = "sigmoid";
  expect_error(model({in, sigmoid}, {"c"}), "activation 'sigmoid'");
  json shared = conv("c", 4, 3, 1, "sequence");
  const json call_again = shared["inbound_nodes"][0];
  shared["inbound_nodes"].push_back(call_again);
  expect_error(model({in, shared}, {"c"}), "shared layers");
  const json control = layer("InputLayer", "control", {{"batch_input_shape", {nullptr, 100, 2}}}, {});
  expect_error(model({in, control}, {"sequence"}), "more than one input");
  expect_error(model(json::array({control}), {"control"}), "expected (None, L, 4)");
  json keras3 = conv("c", 4, 3, 1, "sequence");
  json call = json::object();
  call["args"] = json::array();
  keras3["inbound_nodes"] = json::array();
  keras3["inbound_nodes"].push_back(call);
  expect_error(model({in, keras3}, {"c"}), "Keras 3");
  expect_error(json{{"class_name", "Sequential"}, {"config", json::object()}}.dump(), "Sequential");
  expect_error("{not json", "not JSON");
  expect_error(model({in, conv("c", 4, 101, 1, "sequence")}, {"c"}), "shorter than the kernel");
}

TEST(KerasGraph, OnlyChrombpnetsLambda) {
  const json counts = {input(50), layer("GlobalAveragePooling1D", "gap", json::object(), {"sequence"}),
                       layer("Dense", "a", {{"units", 1}}, {"gap"}),
                       layer("Dense", "b", {{"units", 1}}, {"gap"}),
                       layer("Concatenate", "cat", {{"axis", -1}}, {"a", "b"})};
  auto with_lambda = [&](const std::string& code) {
    json layers = counts;
    layers.push_back(layer("Lambda", "logcount_predictions",
                           {{"function", {code, nullptr, nullptr}}, {"function_type", "lambda"}},
                           {"cat"}));
    return model(layers, {"logcount_predictions"});
  };
  // base64 of "tf math reduce_logsumexp axis keepdims", the names chrombpnet's lambda uses.
  const auto graph = parse_graph(with_lambda("dGYgbWF0aCByZWR1Y2VfbG9nc3VtZXhwIGF4aXMga2VlcGRpbXM="), "m.h5");
  EXPECT_EQ(graph.layers.back().op, Op::LogSumExp);
  EXPECT_EQ(graph.heads, (std::vector<std::string>{"counts"}));
  expect_error(with_lambda("cmVkdWNlX21heCBrZWVwZGltcw=="), "Lambda layer other than chrombpnet");
}

}  // namespace
}  // namespace seqattr::keras
