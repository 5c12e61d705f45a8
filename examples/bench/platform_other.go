//go:build !linux

package main

import (
	"os"
	"runtime"
	"time"
)

func processCPU() time.Duration { return 0 }
func isTerminal(*os.File) bool  { return false }
func canEvict() string          { return "dropping one file from the page cache is Linux-only here" }
func evict(string) error        { return nil }
func hotSetChild() bool         { return false }
func setupHotSet(*env) ([]contender, func(), string, error) {
	return nil, nil, "needs Linux memory cgroups", nil
}

// kernel names the system; loadAverage is not known here.
func kernel() string               { return runtime.GOOS }
func loadAverage() (float64, bool) { return 0, false }
