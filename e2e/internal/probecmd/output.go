package probecmd

import (
	"encoding/json"
	"fmt"
)

// Decode parses a probe's output into v, saying which command printed it
// when it does not parse.
func Decode(out []byte, v any) error {
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decode probe output %q: %w", truncate(out, 200), err)
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
