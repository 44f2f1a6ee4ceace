// Package acttest holds the end-to-end tests of the Stonly collector's
// actions (collectors.Actor): a real Chromium drives the replica's Team
// Management controls. It has no code of its own; the tests live apart
// from package stonly so that the read suite and the action suite run side
// by side, each within go test's time limit.
package acttest
