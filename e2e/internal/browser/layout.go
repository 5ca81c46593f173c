package browser

import (
	"fmt"
	"math"
)

// The checks of a drawing, done on what the browser laid out: every text's
// box, every rectangle, every line as points along it. They are plain
// geometry, so the tests of this file need no browser.

// Rect is a box on the page in CSS pixels.
type Rect struct {
	X, Y, W, H float64
}

func (r Rect) right() float64  { return r.X + r.W }
func (r Rect) bottom() float64 { return r.Y + r.H }

// inset shrinks r by d on every side: glyph boxes include some empty space,
// and a text that only touches another is still readable.
func (r Rect) inset(d float64) Rect {
	return Rect{r.X + d, r.Y + d, math.Max(0, r.W-2*d), math.Max(0, r.H-2*d)}
}

// overlaps reports whether r and o share an area.
func (r Rect) overlaps(o Rect) bool {
	return r.X < o.right() && o.X < r.right() && r.Y < o.bottom() && o.Y < r.bottom()
}

// contains reports whether o lies inside r.
func (r Rect) contains(o Rect) bool {
	return o.X >= r.X && o.right() <= r.right() && o.Y >= r.Y && o.bottom() <= r.bottom()
}

func (r Rect) has(p Point) bool {
	return p.X > r.X && p.X < r.right() && p.Y > r.Y && p.Y < r.bottom()
}

// Point is a point on the page in CSS pixels.
type Point struct{ X, Y float64 }

// Text is one text element of a drawing.
type Text struct {
	Text string `json:"text"`
	Box  Rect   `json:"box"`
}

// Box is a rectangle that frames texts: a pod, a container, a node.
type Box struct {
	Label string `json:"label"`
	Box   Rect   `json:"box"`
}

// Line is an arrow or a rail, as points along it.
type Line struct {
	Key    string  `json:"key"`
	Points []Point `json:"points"`
}

// Drawing is what a check looks at.
type Drawing struct {
	Frame Rect   `json:"frame"`
	Texts []Text `json:"texts"`
	Boxes []Box  `json:"boxes"`
	Lines []Line `json:"lines"`
}

// slack is how far, in CSS pixels, texts may reach into each other or
// over a border before it counts.
const slack = 1.5

// Problems lists every text that overlaps another text, crosses a box's
// border, leaves the frame, or has a line running through it.
func (d Drawing) Problems() []string {
	var out []string
	for i, t := range d.Texts {
		box := t.Box.inset(slack)
		for _, o := range d.Texts[i+1:] {
			if box.overlaps(o.Box.inset(slack)) {
				out = append(out, fmt.Sprintf("text %q overlaps text %q", t.Text, o.Text))
			}
		}
		if !d.Frame.contains(box) {
			out = append(out, fmt.Sprintf("text %q leaves the drawing", t.Text))
		}
		for _, b := range d.Boxes {
			if box.overlaps(b.Box) && !b.Box.contains(box) {
				out = append(out, fmt.Sprintf("text %q crosses the border of box %q", t.Text, b.Label))
			}
		}
		for _, l := range d.Lines {
			if crossed(box, l.Points) {
				out = append(out, fmt.Sprintf("line %s runs through text %q", l.Key, t.Text))
			}
		}
	}
	return out
}

func crossed(r Rect, points []Point) bool {
	for _, p := range points {
		if r.has(p) {
			return true
		}
	}
	return false
}
