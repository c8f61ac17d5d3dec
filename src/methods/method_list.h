// The registered attribution methods, in the order `--help` and errors list them: one line
// per method, SEQATTR_METHOD(f) where `MethodSpec f()` is defined in the method's own file.
// Included by methods/registry.cpp only.
SEQATTR_METHOD(gradient_method)
SEQATTR_METHOD(input_x_gradient_method)
SEQATTR_METHOD(integrated_gradients_method)
SEQATTR_METHOD(deeplift_method)
SEQATTR_METHOD(deeplift_shap_method)
SEQATTR_METHOD(ism_method)
