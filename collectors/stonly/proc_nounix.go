//go:build !unix

package stonly

import (
	"os/exec"
	"time"
)

func ownGroup(*exec.Cmd) {}

// endGroup relies on chromedp's own wait where there are no process groups.
func endGroup(int, *browserHome, time.Duration) {}
