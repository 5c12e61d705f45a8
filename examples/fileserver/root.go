package main

import (
	"io/fs"
	"os"
)

// root is where the server looks files up: os.Root from Go 1.24 on
// (root_go124.go), a path check before it (root_go122.go).
type root interface {
	Stat(name string) (fs.FileInfo, error)
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Close() error
}
