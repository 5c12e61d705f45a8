package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/zerocopy-go/zerocopy"
)

func TestMain(m *testing.M) {
	if hotSetChild() { // the hot-set scenario re-executes this binary
		os.Exit(0)
	}
	if mainChild() { // TestHelp runs main in a child
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
		if zerocopy.MethodTransmitFile.Available() {
			return "transmitfile" // Windows server editions
		}
		return "buffered"
	case "tcp-tcp", "relay-1", "relay-64":
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
	if os.Getenv("ZEROCOPY_LONG") != "1" || testing.Short() {
		// Every scenario but hot-set, which streams 1 GiB+ through a memory
		// cgroup (about 20 s): ZEROCOPY_LONG=1 runs it too.
		cfg.scenarios = []string{"file-tcp", "tcp-tcp", "relay-1", "relay-64", "file-file", "small-ranges", "mmap-random", "cold-read"}
		if underWine() {
			// Wine's I/O is 10-50x slower than Windows's: the scenarios of
			// 20,000 small operations (small-ranges, mmap-random) and
			// relay-1's ping-pong take minutes there.
			t.Log("under Wine with -short: small-ranges, mmap-random and relay-1 left out (minutes under Wine)")
			cfg.scenarios = []string{"file-tcp", "tcp-tcp", "relay-64", "file-file", "cold-read"}
		}
	}
	check(t, run(cfg, &out, io.Discard))

	// The JSON schema: these keys, with these types, on every result.
	var raw []map[string]any
	check(t, json.Unmarshal(out.Bytes(), &raw))
	seen := map[string]bool{}
	for _, r := range raw {
		sc := r["scenario"].(string)
		seen[sc] = true
		if skip, ok := r["skipped"]; ok {
			t.Logf("%s skipped: %v", sc, skip)
			if sc != "hot-set" && sc != "cold-read" {
				t.Fatalf("%s skipped: only environment-bound scenarios may skip", sc)
			}
			continue
		}
		for _, k := range []string{"contender", "method"} {
			if _, ok := r[k].(string); !ok {
				t.Fatalf("%s: %s is %T, want a string", sc, k, r[k])
			}
		}
		for _, k := range []string{"rounds", "median_gib_per_s", "spread_gib_per_s", "cpu_s_per_gib"} {
			if _, ok := r[k].(float64); !ok {
				t.Fatalf("%s: %s is %T, want a number", sc, k, r[k])
			}
		}
		equal(t, float64(2), r["rounds"].(float64))
		if r["median_gib_per_s"].(float64) <= 0 {
			t.Fatalf("%s: median %v", sc, r["median_gib_per_s"])
		}
	}
	var results []Result
	check(t, json.Unmarshal(out.Bytes(), &results))
	for _, r := range results {
		if r.Skipped != "" || (r.Contender != "zerocopy.SendFile" && r.Contender != "zerocopy.CopyN" &&
			r.Contender != "zerocopy.Copy" && r.Contender != "mmap.ReadAt" && r.Contender != "directio.Reader" &&
			r.Contender != "zerocopy.Relay") {
			continue
		}
		if !strings.HasPrefix(r.Method, wantMethod(r.Scenario)) {
			t.Fatalf("%s/%s ran %q", r.Scenario, r.Contender, r.Method)
		}
	}
	for _, sc := range cfg.scenarios {
		if !seen[sc] {
			t.Fatalf("scenario %s not reported", sc)
		}
	}

	// The chart is well-formed SVG with a bar per measured contender.
	b, err := os.ReadFile(svg)
	check(t, err)
	d := xml.NewDecoder(bytes.NewReader(b))
	rects := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		check(t, err)
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects <= 5 {
		t.Fatalf("%d bars in the chart", rects)
	}
}

func TestTables(t *testing.T) {
	var out bytes.Buffer
	scenarios := []string{"file-tcp", "mmap-random"}
	if testing.Short() && underWine() {
		scenarios = scenarios[:1] // mmap-random's 20,000 reads take a minute under Wine
	}
	check(t, run(config{size: 1 << 20, rounds: 1, scenarios: scenarios}, &out, io.Discard))
	s := out.String()
	mustContain(t, s, "file-tcp: a page-cached file to a loopback TCP peer")
	mustContain(t, s, "vs io.Copy")
	mustContain(t, s, "zerocopy.SendFile")
	if len(scenarios) > 1 {
		mustContain(t, s, "ns/op") // mmap-random's table
	}
	// The header says what ran where; the spread is named.
	head := regexp.MustCompile(`^bench: 1 MiB per transfer, 1 round, \S.*, \d+ CPUs, load average (\d+\.\d\d at start|unknown) \(go`)
	if !head.MatchString(s) {
		t.Fatalf("no header line:\n%s", s)
	}
	mustContain(t, s, "GiB/s median (min-max)")
	if !regexp.MustCompile(`zerocopy.SendFile +\d+\.\d\d \(\d+\.\d\d-\d+\.\d\d\)`).MatchString(s) {
		t.Fatalf("no median (min-max) figures:\n%s", s)
	}
	if !regexp.MustCompile(`\ndone in \d`).MatchString(s) {
		t.Fatalf("no closing time:\n%s", s)
	}
}

// TestBusy: a load average above the CPU count gets a warning that the
// figures will be noisy; a quiet or unknown one gets none.
func TestBusy(t *testing.T) {
	cpus := float64(runtime.NumCPU())
	mustContain(t, busy(cpus+1, true), "figures will be noisy")
	equal(t, "", busy(cpus, true))
	equal(t, "", busy(cpus*10, false))
}

// TestJSONHeader: with -json the header goes to the log, and the output
// stays one JSON document.
func TestJSONHeader(t *testing.T) {
	var out, log bytes.Buffer
	scenario := "small-ranges"
	if testing.Short() && underWine() {
		scenario = "file-file" // small-ranges' 20,000 sends take minutes under Wine
	}
	check(t, run(config{size: 1 << 20, rounds: 1, json: true, scenarios: []string{scenario}}, &out, &log))
	var v []Result
	check(t, json.Unmarshal(out.Bytes(), &v))
	mustContain(t, log.String(), "bench: 1 MiB per transfer")
}

func TestBadFlags(t *testing.T) {
	for want, cfg := range map[string]config{
		"-rounds":          {size: 1, rounds: 0},
		"unknown scenario": {size: 1, rounds: 1, scenarios: []string{"nope"}},
	} {
		err := run(cfg, io.Discard, io.Discard)
		if err == nil {
			t.Fatalf("%+v accepted", cfg)
		}
		mustContain(t, err.Error(), want)
	}
	n, err := parseSize("64M")
	check(t, err)
	equal(t, int64(64<<20), n)
}
