//go:build !(linux || windows) || purego

package directio

const DirectBuild = false
