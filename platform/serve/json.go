package serve

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
}

// JSON writes v as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is already sent; an encoding error can only mean the
	// client went away, and there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(v) //nolint:errcheck // see above
}

// Error writes a JSON error. 5xx messages should say little; log the cause.
func Error(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, ErrorBody{Error: msg})
}
