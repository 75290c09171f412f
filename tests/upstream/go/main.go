// Command expand expands Grafana ClickHouse data-source macros the way the plugin's backend
// does, for the tests (see docs/testing.md). It reads {"queries": [...]} as JSON on stdin and
// writes {"results": [{"sql": ...} | {"error": ...}]} on stdout, one result per query.
//
// The path is the plugin's: grafana/sqlds v4.2.3 datasource.go:180-186 (GetQuery, then
// Interpolate with the driver's Macros()), which calls grafana-plugin-sdk-go v0.277.1
// data/sqlutil Interpolate (macros.go:218-250: DefaultMacros merged with the driver's, longest
// name first). Both run here as the real modules, at the versions clickhouse-datasource v4.10.1
// requires (its go.mod). The driver's macro table is in clickhouse_macros.go.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/sqlds/v4"
)

type request struct {
	Queries []struct {
		RawSQL     string    `json:"rawSql"`
		Format     int       `json:"format"`
		From       time.Time `json:"from"`
		To         time.Time `json:"to"`
		IntervalMs int64     `json:"intervalMs"`
	} `json:"queries"`
}

type result struct {
	SQL   *string `json:"sql,omitempty"`
	Error string  `json:"error,omitempty"`
}

// driver is the part of the plugin's sqlds.Driver that Interpolate uses: Macros()
// (clickhouse-datasource pkg/plugin/driver.go:266-268 at v4.10.1).
type driver struct{ sqlds.Driver }

func (driver) Macros() sqlds.Macros { return clickhouseMacros }

func expand(rawSQL string, format int, from, to time.Time, intervalMs int64) (string, error) {
	model, err := json.Marshal(map[string]any{"rawSql": rawSQL, "format": format})
	if err != nil {
		return "", err
	}
	q, err := sqlds.GetQuery(backend.DataQuery{
		RefID:     "A",
		JSON:      model,
		TimeRange: backend.TimeRange{From: from, To: to},
		Interval:  time.Duration(intervalMs) * time.Millisecond,
	}, nil, false)
	if err != nil {
		return "", err
	}
	return sqlds.Interpolate(driver{}, q)
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "expand: bad request on stdin: %v\n", err)
		os.Exit(2)
	}
	out := struct {
		Results []result `json:"results"`
	}{Results: make([]result, 0, len(req.Queries))}
	for _, q := range req.Queries {
		sql, err := expand(q.RawSQL, q.Format, q.From, q.To, q.IntervalMs)
		if err != nil {
			out.Results = append(out.Results, result{Error: err.Error()})
		} else {
			out.Results = append(out.Results, result{SQL: &sql})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "expand: %v\n", err)
		os.Exit(1)
	}
}
