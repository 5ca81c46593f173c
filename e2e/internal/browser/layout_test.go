package browser

import (
	"slices"
	"testing"
)

func TestProblems(t *testing.T) {
	t.Parallel()
	frame := Rect{0, 0, 1000, 600}
	pod := Box{Label: "backend-0", Box: Rect{100, 100, 300, 120}}
	tests := []struct {
		name    string
		drawing Drawing
		want    []string
	}{
		{
			name: "texts apart, inside their box, no line through them",
			drawing: Drawing{Frame: frame, Boxes: []Box{pod},
				Texts: []Text{{"backend", Rect{120, 120, 80, 16}}, {"sidecar", Rect{250, 120, 80, 16}}},
				Lines: []Line{{"edge", []Point{{50, 50}, {90, 90}}}}},
		},
		{
			name: "texts that only touch",
			drawing: Drawing{Frame: frame,
				Texts: []Text{{"a", Rect{10, 10, 50, 16}}, {"b", Rect{59, 10, 50, 16}}}},
		},
		{
			name: "overlapping texts",
			drawing: Drawing{Frame: frame,
				Texts: []Text{{"a", Rect{10, 10, 50, 16}}, {"b", Rect{40, 12, 50, 16}}}},
			want: []string{`text "a" overlaps text "b"`},
		},
		{
			name: "a sibling list cut by its pod's border, and a label outside the drawing",
			drawing: Drawing{Frame: frame, Boxes: []Box{pod},
				Texts: []Text{{"peers", Rect{120, 200, 320, 14}}, {"127.0.0.1:30080", Rect{-20, 300, 100, 14}}}},
			want: []string{`text "peers" crosses the border of box "backend-0"`, `text "127.0.0.1:30080" leaves the drawing`},
		},
		{
			name: "a line through a label",
			drawing: Drawing{Frame: frame,
				Texts: []Text{{"✓ headless", Rect{500, 400, 80, 16}}},
				Lines: []Line{{"frontend-backend-headless-backend-1", []Point{{480, 405}, {520, 408}, {560, 409}}}}},
			want: []string{`line frontend-backend-headless-backend-1 runs through text "✓ headless"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.drawing.Problems(); !slices.Equal(got, tt.want) {
				t.Errorf("Problems() = %q, want %q", got, tt.want)
			}
		})
	}
}
