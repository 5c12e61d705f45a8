// Command bench shows, on the machine it runs on, what each zero-copy path
// buys over io.Copy and over a plain buffered copy: throughput, CPU per
// GiB, and the method that ran.
//
//	go run ./examples/bench [-size 256M] [-rounds 5] [-scenarios file-tcp,tcp-tcp] [-json] [-svg chart.svg]
//
// With no arguments it makes its own data in a temporary directory, runs
// every scenario with every contender in the same run, alternating them
// (A B C A B C ...) for -rounds rounds, prints the median round and the
// slowest and fastest (min-max), and removes the data. A scenario that
// cannot run here says why.
//
// It starts with a header line (the size, the rounds, the kernel, the
// CPUs and the load average) and warns when the load average is above the
// CPU count: other work then shares the machine, the figures are noisy and
// the run takes longer. It ends with the time it took.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if hotSetChild() {
		return
	}
	var cfg config
	size := flag.String("size", "256M", "bytes per transfer in the streaming scenarios (K, M, G suffixes)")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds; each runs every contender once, in turn")
	scen := flag.String("scenarios", "", "comma-separated scenarios to run (default: all): "+strings.Join(names(), ","))
	flag.BoolVar(&cfg.json, "json", false, "print the results as JSON instead of tables")
	flag.StringVar(&cfg.svg, "svg", "", "also write a bar chart of the ratios against io.Copy (or the plain copy) to this SVG file")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprint(out, `usage: bench [-size SIZE] [-rounds N] [-scenarios LIST] [-json] [-svg FILE]

bench measures, on this machine, what zerocopy's paths buy over io.Copy
and over a plain buffered copy: for each scenario (file to TCP, TCP to
TCP, Relay, file to file, small ranges, mmap random reads, cold reads, a
hot file's survival in the page cache) it runs every contender once per
round, in turn, and prints the median GiB/s with the slowest and fastest
round (min-max), the CPU seconds per GiB, the ratios to io.Copy and to
the plain copy, and the kernel path that ran. Its data lives in a
temporary directory, removed at the end. A busy machine (load average
above the CPU count) gives noisy figures and takes longer: it says so.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "bench: -size %q: want a positive size like 64M\n", *size)
		os.Exit(2)
	}
	cfg.size = n
	if *scen != "" {
		cfg.scenarios = strings.Split(*scen, ",")
	}
	cfg.progress = isTerminal(os.Stderr)
	if err := run(cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	size      int64
	rounds    int
	scenarios []string
	json      bool
	svg       string
	progress  bool
}

func run(cfg config, out, log io.Writer) error {
	if err := cfg.check(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zerocopy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Interrupted (Ctrl-C, kill): remove the data too, then exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	defer func() { signal.Stop(sig); close(stop) }()
	go removeOnSignal(sig, stop, dir, log)
	// The header goes with the tables, or to log beside JSON (which stays
	// a JSON document).
	head := out
	if cfg.json {
		head = log
	}
	started := time.Now()
	fmt.Fprintln(head, header(cfg))
	if w := busy(loadAverage()); w != "" {
		fmt.Fprintln(head, w)
	}
	env := &env{dir: dir, size: cfg.size, rounds: cfg.rounds, log: log, progress: cfg.progress}
	var all []Result
	for _, sc := range scenarios {
		if len(cfg.scenarios) > 0 && !contains(cfg.scenarios, sc.name) {
			continue
		}
		res := env.runScenario(sc)
		all = append(all, res...)
		if !cfg.json {
			printTable(out, sc, res)
		}
	}
	if err := cfg.write(out, all); err != nil {
		return err
	}
	end := ""
	if l, ok := loadAverage(); ok {
		end = fmt.Sprintf("; load average at the end %.2f", l)
	}
	fmt.Fprintf(head, "\ndone in %v%s\n", time.Since(started).Round(time.Second), end)
	return nil
}

// check refuses what cannot run: no rounds, an unknown scenario.
func (cfg config) check() error {
	if cfg.rounds < 1 {
		return fmt.Errorf("-rounds %d: want at least 1", cfg.rounds)
	}
	for _, s := range cfg.scenarios {
		if find(s) == nil {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(names(), ", "))
		}
	}
	return nil
}

// removeOnSignal removes dir and exits when a signal arrives on sig, and
// returns when stop is closed.
func removeOnSignal(sig <-chan os.Signal, stop <-chan struct{}, dir string, log io.Writer) {
	select {
	case s := <-sig:
		os.RemoveAll(dir)
		fmt.Fprintf(log, "bench: %v: removed %s\n", s, dir)
		os.Exit(130)
	case <-stop:
	}
}

// write writes the results as JSON (-json) and the chart (-svg).
func (cfg config) write(out io.Writer, all []Result) error {
	if cfg.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return err
		}
	}
	if cfg.svg != "" {
		return os.WriteFile(cfg.svg, chart(all), 0o644)
	}
	return nil
}

// header says what was run where: "bench: 256 MiB per transfer, 5
// rounds, Linux 6.18.5, 2 CPUs, load average 0.12 at start".
func header(cfg config) string {
	load := "load average unknown"
	if l, ok := loadAverage(); ok {
		load = fmt.Sprintf("load average %.2f at start", l)
	}
	rounds := "rounds"
	if cfg.rounds == 1 {
		rounds = "round"
	}
	return fmt.Sprintf("bench: %s per transfer, %d %s, %s, %d CPUs, %s (%s %s/%s)",
		sizeName(cfg.size), cfg.rounds, rounds, kernel(), runtime.NumCPU(), load, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// busy warns when the load average l (known: ok) is above the CPU count.
func busy(l float64, ok bool) string {
	if !ok || l <= float64(runtime.NumCPU()) {
		return ""
	}
	return fmt.Sprintf("warning: the load average (%.2f) is above the CPU count (%d): other work is running,\n"+
		"so the figures will be noisy, may differ from a quiet machine's, and the run takes longer", l, runtime.NumCPU())
}

// sizeName writes n as "256 MiB", "1 GiB", "4096 bytes".
func sizeName(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-min(1, len(s)):]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}
