package main

// The macro table of grafana/clickhouse-datasource v4.10.1 (commit afee68df032e), written from
// its pkg/macros/macros.go. That module is the one piece of the chain the Go module proxy here
// does not serve (it answers 403 for every version of github.com/grafana/clickhouse-datasource),
// so its table is restated: each entry cites the upstream lines it follows. The machinery that
// finds macros, splits their arguments and applies them is the real sqlutil code (main.go).
// docs/testing.md says how this file was checked against the upstream package.

import (
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data/sqlutil"
)

// macros.go:16-28: toDate('YYYY-MM-DD'), toDateTime(unix s), fromUnixTimestamp64Milli(unix ms).
func chDate(t time.Time) string     { return fmt.Sprintf("toDate('%s')", t.Format("2006-01-02")) }
func chDateTime(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
func chDateTime64(t time.Time) string {
	return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli())
}

// macros.go:50-62 (and 64-89, 91-105): a wrong argument count is a downstream error.
func wantArgs(args []string, n int) error {
	if len(args) == n {
		return nil
	}
	noun := "argument"
	if n > 1 {
		noun = "arguments"
	}
	return backend.DownstreamError(fmt.Errorf("%w: expected %d %s, received %d",
		sqlutil.ErrorBadArgumentCount, n, noun, len(args)))
}

func between(render func(time.Time) string) sqlutil.MacroFunc {
	return func(q *sqlutil.Query, args []string) (string, error) {
		if err := wantArgs(args, 1); err != nil {
			return "", err
		}
		c := args[0]
		return fmt.Sprintf("%s >= %s AND %s <= %s", c, render(q.TimeRange.From), c, render(q.TimeRange.To)), nil
	}
}

func bound(render func(time.Time) string, to bool) sqlutil.MacroFunc {
	return func(q *sqlutil.Query, _ []string) (string, error) {
		if to {
			return render(q.TimeRange.To), nil
		}
		return render(q.TimeRange.From), nil
	}
}

// macros.go:91-105.
func dateTimeFilter(q *sqlutil.Query, args []string) (string, error) {
	if err := wantArgs(args, 2); err != nil {
		return "", err
	}
	d, t, from, to := args[0], args[1], q.TimeRange.From, q.TimeRange.To
	return fmt.Sprintf("(%s >= %s AND %s <= %s) AND (%s >= %s AND %s <= %s)",
		d, chDate(from), d, chDate(to), t, chDateTime(from), t, chDateTime(to)), nil
}

// macros.go:107-114: at least one second.
func timeInterval(q *sqlutil.Query, args []string) (string, error) {
	if err := wantArgs(args, 1); err != nil {
		return "", err
	}
	s := int(math.Max(q.Interval.Seconds(), 1))
	return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", args[0], s), nil
}

// macros.go:116-123: at least one millisecond.
func timeIntervalMs(q *sqlutil.Query, args []string) (string, error) {
	if err := wantArgs(args, 1); err != nil {
		return "", err
	}
	ms := int(math.Max(float64(q.Interval.Milliseconds()), 1))
	return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", args[0], ms), nil
}

// macros.go:125-128.
func intervalSeconds(q *sqlutil.Query, _ []string) (string, error) {
	return fmt.Sprintf("%d", int(math.Max(q.Interval.Seconds(), 1))), nil
}

// macros.go:153-166: the names the plugin registers (they override sqlutil's DefaultMacros of
// the same name; sqlutil's others, e.g. $__timeGroup, $__table, stay available).
var clickhouseMacros = sqlutil.Macros{
	"fromTime":        bound(chDateTime, false),
	"toTime":          bound(chDateTime, true),
	"fromTime_ms":     bound(chDateTime64, false),
	"toTime_ms":       bound(chDateTime64, true),
	"timeFilter":      between(chDateTime),
	"timeFilter_ms":   between(chDateTime64),
	"dateFilter":      between(chDate),
	"dateTimeFilter":  dateTimeFilter,
	"dt":              dateTimeFilter,
	"timeInterval":    timeInterval,
	"timeInterval_ms": timeIntervalMs,
	"interval_s":      intervalSeconds,
}
