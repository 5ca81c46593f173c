package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestWriteRoundTrips(t *testing.T) {
	t.Parallel()
	doc := Suites{Name: "podpaths", Tests: 2, Failures: 1, Time: Seconds(1500 * time.Millisecond), Suites: []Suite{{
		Name: "check", Tests: 2, Failures: 1, Cases: []Case{
			{Name: "ok one", Classname: "a"},
			{Name: "bad <one>", Classname: "a", Failure: &Failure{Message: "refused", Type: "refused", Text: "dial: refused"}},
		},
	}}}
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) {
		t.Errorf("output starts %q, want the XML header", buf.String()[:20])
	}
	var got Suites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output does not parse back: %v\n%s", err, buf.String())
	}
	if got.Time != "1.500" || len(got.Suites) != 1 || got.Suites[0].Cases[1].Name != "bad <one>" || got.Suites[0].Cases[1].Failure.Message != "refused" {
		t.Errorf("round trip = %+v, want the document written", got)
	}
}
