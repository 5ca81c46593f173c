package dashboard

import (
	"fmt"
	"net/http"
)

// busyPage is what a browser gets while the frontend already makes as many
// reports as it may: a page that says so and reloads itself, so that a room
// of auto-refreshing dashboards recovers on its own. It needs no script.
const busyPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<title>podpaths: busy</title>
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body>
<main>
<h1>podpaths is busy</h1>
<p>This frontend is already making %d path reports at once, as many as it makes at a time.
This page tries again in 2 seconds.</p>
</main>
</body>
</html>
`

// Busy answers 429 Too Many Requests with busyPage; limit is how many
// reports the frontend makes at once.
func Busy(limit int) http.Handler {
	page := []byte(fmt.Sprintf(busyPage, limit))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write(page) //nolint:errcheck // the status is sent; the client went away
	})
}
