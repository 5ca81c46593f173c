module github.com/podpaths/podpaths/hack/local-cluster/pause

go 1.26.0
