module github.com/podpaths/podpaths/hack/bench

go 1.26.0

require github.com/podpaths/podpaths/platform v0.0.0

replace github.com/podpaths/podpaths/platform => ../../platform
