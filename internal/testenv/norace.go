//go:build !race

package testenv

// Race is true when the tests were built with -race, so that the binaries they run are too.
const Race = false
