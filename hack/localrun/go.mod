module github.com/podpaths/podpaths/hack/localrun

go 1.26.0

require github.com/podpaths/podpaths/platform v0.0.0

require (
	github.com/miekg/dns v1.1.73 // indirect
	golang.org/x/net v0.59.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/podpaths/podpaths/platform => ../../platform
