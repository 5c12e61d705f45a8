package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
)

func TestMain(m *testing.M) {
	if hotSetChild() { // the hot-set scenario re-executes this binary
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// wantMethod is what each scenario's library contender must report here.
func wantMethod(scenario string) string {
	fast := zerocopy.MethodSendfile.Available()
	switch scenario {
	case "file-tcp", "small-ranges":
		if fast {
			return "sendfile"
		}
		return "buffered"
	case "tcp-tcp":
		if fast {
			return "splice"
		}
		return "buffered"
	case "file-file":
		if fast {
			return "copy_file_range"
		}
		return "buffered"
	case "mmap-random":
		return "mmap"
	case "cold-read":
		return "directio"
	case "hot-set":
		return "hot file resident afterwards: "
	}
	return "?"
}

func TestEveryScenario(t *testing.T) {
	var out bytes.Buffer
	svg := filepath.Join(t.TempDir(), "chart.svg")
	cfg := config{size: 1 << 20, rounds: 2, json: true, svg: svg}
	if testing.Short() {
		cfg.scenarios = []string{"file-tcp", "tcp-tcp", "file-file", "small-ranges", "mmap-random", "cold-read"}
	}
	require.NoError(t, run(cfg, &out, io.Discard))

	// The JSON schema: these keys, with these types, on every result.
	var raw []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &raw))
	seen := map[string]bool{}
	for _, r := range raw {
		sc := r["scenario"].(string)
		seen[sc] = true
		if skip, ok := r["skipped"]; ok {
			t.Logf("%s skipped: %v", sc, skip)
			require.Contains(t, []string{"hot-set", "cold-read"}, sc, "only environment-bound scenarios may skip")
			continue
		}
		for _, k := range []string{"contender", "method"} {
			require.IsType(t, "", r[k], k)
		}
		for _, k := range []string{"rounds", "median_gib_per_s", "spread_gib_per_s", "cpu_s_per_gib"} {
			require.IsType(t, float64(0), r[k], k)
		}
		require.Equal(t, float64(2), r["rounds"])
		require.Greater(t, r["median_gib_per_s"].(float64), 0.0)
	}
	var results []Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &results))
	for _, r := range results {
		if r.Skipped != "" || (r.Contender != "zerocopy.SendFile" && r.Contender != "zerocopy.CopyN" &&
			r.Contender != "zerocopy.Copy" && r.Contender != "mmap.ReadAt" && r.Contender != "directio.Reader") {
			continue
		}
		require.True(t, strings.HasPrefix(r.Method, wantMethod(r.Scenario)), "%s/%s ran %q", r.Scenario, r.Contender, r.Method)
	}
	for _, sc := range cfg.scenarios {
		require.True(t, seen[sc], "scenario %s reported", sc)
	}

	// The chart is well-formed SVG with a bar per measured contender.
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	d := xml.NewDecoder(bytes.NewReader(b))
	rects := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	require.Greater(t, rects, 5)
}

func TestTables(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(config{size: 1 << 20, rounds: 1, scenarios: []string{"file-tcp", "mmap-random"}}, &out, io.Discard))
	s := out.String()
	require.Contains(t, s, "file-tcp: a page-cached file to a loopback TCP peer")
	require.Contains(t, s, "vs io.Copy")
	require.Contains(t, s, "zerocopy.SendFile")
	require.Contains(t, s, "ns/op")
}

func TestBadFlags(t *testing.T) {
	require.ErrorContains(t, run(config{size: 1, rounds: 0}, io.Discard, io.Discard), "-rounds")
	require.ErrorContains(t, run(config{size: 1, rounds: 1, scenarios: []string{"nope"}}, io.Discard, io.Discard), "unknown scenario")
	n, err := parseSize("64M")
	require.NoError(t, err)
	require.Equal(t, int64(64<<20), n)
}
