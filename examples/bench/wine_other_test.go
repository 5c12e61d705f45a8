//go:build !windows

package main

// underWine: only a Windows program runs under Wine.
func underWine() bool { return false }
