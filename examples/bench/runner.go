package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"
)

// Result is one contender's figures in one scenario: the JSON schema of
// -json (field names are stable).
type Result struct {
	Scenario    string  `json:"scenario"`
	Contender   string  `json:"contender"`
	Rounds      int     `json:"rounds"`
	MedianGiBs  float64 `json:"median_gib_per_s"`
	SpreadGiBs  float64 `json:"spread_gib_per_s"` // max minus min over the rounds
	MinGiBs     float64 `json:"min_gib_per_s"`    // the slowest round
	MaxGiBs     float64 `json:"max_gib_per_s"`    // the fastest round
	CPUPerGiB   float64 `json:"cpu_s_per_gib"`    // whole process, median
	NsPerOp     float64 `json:"ns_per_op,omitempty"`
	AllocsPerOp float64 `json:"allocs_per_op,omitempty"`
	VsIOCopy    float64 `json:"vs_io_copy,omitempty"` // throughput ratio to io.Copy in the same run
	VsPlain     float64 `json:"vs_plain,omitempty"`   // throughput ratio to the best plain copy
	Method      string  `json:"method"`
	Skipped     string  `json:"skipped,omitempty"`
}

// contender is one way of doing a scenario's job. run does one op and
// returns the bytes moved and the method that moved them.
type contender struct {
	name string
	role string // "lib", "io.Copy" or "plain"
	ops  int    // operations per round (1 for streaming scenarios)
	run  func() (int64, string, error)
	// noCPU: the work happens in a child process, so this process's CPU
	// time says nothing.
	noCPU bool
}

type scenario struct {
	name  string
	about string
	// setup prepares the contenders, or says why the scenario cannot run.
	setup func(e *env) (cs []contender, cleanup func(), skip string, err error)
}

type env struct {
	dir      string
	size     int64
	rounds   int
	log      io.Writer
	progress bool
}

type sample struct {
	gibs, cpu, nsPerOp, allocs float64
	method                     string
}

func (e *env) runScenario(sc scenario) []Result {
	cs, cleanup, skip, err := sc.setup(e)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		skip = "setup failed: " + err.Error()
	}
	if skip != "" {
		return []Result{{Scenario: sc.name, Skipped: skip}}
	}
	samples, failed := e.measureRounds(sc, cs)
	if failed != nil {
		return []Result{*failed}
	}
	return summarize(sc, cs, e.rounds, samples)
}

// measureRounds measures every contender once per round, alternating (A B C A B
// C), so that every contender sees the same machine state. A contender
// that fails ends the scenario with a Result saying so.
func (e *env) measureRounds(sc scenario, cs []contender) ([][]sample, *Result) {
	samples := make([][]sample, len(cs))
	for r := range e.rounds {
		for i, c := range cs {
			if e.progress {
				fmt.Fprintf(e.log, "\r%-14s round %d/%d  %-22s", sc.name, r+1, e.rounds, c.name)
			}
			s, err := measure(c)
			if err != nil {
				return nil, &Result{Scenario: sc.name, Contender: c.name, Skipped: "failed: " + err.Error()}
			}
			samples[i] = append(samples[i], s)
		}
	}
	if e.progress {
		fmt.Fprintf(e.log, "\r%60s\r", "")
	}
	return samples, nil
}

// summarize turns each contender's samples into its Result: medians,
// min-max, and the ratios to io.Copy and to the best plain copy.
func summarize(sc scenario, cs []contender, rounds int, samples [][]sample) []Result {
	res := make([]Result, len(cs))
	var ioCopy, plain float64
	for i, c := range cs {
		g := median(samples[i], func(s sample) float64 { return s.gibs })
		lo, hi := minMax(samples[i])
		res[i] = Result{
			Scenario: sc.name, Contender: c.name, Rounds: rounds,
			MedianGiBs: g, SpreadGiBs: hi - lo, MinGiBs: lo, MaxGiBs: hi,
			CPUPerGiB: median(samples[i], func(s sample) float64 { return s.cpu }),
			Method:    samples[i][len(samples[i])-1].method,
		}
		if c.noCPU {
			res[i].CPUPerGiB = 0
		}
		if c.ops > 1 {
			res[i].NsPerOp = median(samples[i], func(s sample) float64 { return s.nsPerOp })
			res[i].AllocsPerOp = median(samples[i], func(s sample) float64 { return s.allocs })
		}
		switch c.role {
		case "io.Copy":
			ioCopy = g
		case "plain":
			plain = math.Max(plain, g)
		}
	}
	for i := range res {
		if ioCopy > 0 {
			res[i].VsIOCopy = res[i].MedianGiBs / ioCopy
		}
		if plain > 0 {
			res[i].VsPlain = res[i].MedianGiBs / plain
		}
	}
	return res
}

func measure(c contender) (sample, error) {
	ops := max(c.ops, 1)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	start := time.Now()
	var total int64
	var method string
	for range ops {
		n, m, err := c.run()
		if err != nil {
			return sample{}, err
		}
		total += n
		method = m
	}
	el := time.Since(start)
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&ms1)
	gib := float64(total) / (1 << 30)
	return sample{
		gibs:    gib / el.Seconds(),
		cpu:     cpu.Seconds() / math.Max(gib, 1e-12),
		nsPerOp: float64(el.Nanoseconds()) / float64(ops),
		allocs:  float64(ms1.Mallocs-ms0.Mallocs) / float64(ops),
		method:  method,
	}, nil
}

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func minMax(s []sample) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range s {
		lo, hi = math.Min(lo, x.gibs), math.Max(hi, x.gibs)
	}
	return lo, hi
}

func printTable(w io.Writer, sc scenario, res []Result) {
	fmt.Fprintf(w, "\n%s: %s\n", sc.name, sc.about)
	if len(res) == 1 && res[0].Skipped != "" {
		fmt.Fprintf(w, "  skipped: %s\n", res[0].Skipped)
		return
	}
	perOp := res[0].NsPerOp > 0
	if perOp {
		fmt.Fprintf(w, "  %-24s %12s %10s %10s %10s %10s  %s\n", "contender", "ns/op median", "allocs/op", "GiB/s", "vs io.Copy", "vs plain", "method")
	} else {
		fmt.Fprintf(w, "  %-24s %22s %10s %10s %10s  %s\n", "contender", "GiB/s median (min-max)", "CPU s/GiB", "vs io.Copy", "vs plain", "method")
	}
	for _, r := range res {
		if r.Skipped != "" {
			fmt.Fprintf(w, "  %-24s skipped: %s\n", r.Contender, r.Skipped)
			continue
		}
		if perOp {
			fmt.Fprintf(w, "  %-24s %12.0f %10.1f %10.3f %10s %10s  %s\n", r.Contender, r.NsPerOp, r.AllocsPerOp, r.MedianGiBs, ratio(r.VsIOCopy), ratio(r.VsPlain), r.Method)
		} else {
			cpu := "-"
			if r.CPUPerGiB > 0 {
				cpu = fmt.Sprintf("%.3f", r.CPUPerGiB)
			}
			fmt.Fprintf(w, "  %-24s %7.2f %-14s %10s %10s %10s  %s\n", r.Contender, r.MedianGiBs,
				fmt.Sprintf("(%.2f-%.2f)", r.MinGiBs, r.MaxGiBs), cpu, ratio(r.VsIOCopy), ratio(r.VsPlain), r.Method)
		}
	}
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}
