module github.com/podpaths/podpaths/hack/bench

go 1.26.0
