// Small static programs for the real node's images, and the tool that packs them into OCI image-layout tarballs
// (no Docker, no registry). Standard library only, apart from the operator module's behaviour-annotation parser
// (test/harness/sim/behavior, itself standard library only), which probe-target shares with the simulator.
module github.com/probetuner/probe-tuner/hack/nodeimages

go 1.26.0

require github.com/probetuner/probe-tuner v0.0.0

replace github.com/probetuner/probe-tuner => ../..
