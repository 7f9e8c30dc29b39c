// Package daemontest is test support for the end-to-end tests: it builds
// hemostatd (and any extra plugin binaries) once per test binary, runs it
// as a real process on a configuration file, and records every envelope
// published on the HemoStat channels of a real Redis, with helpers to wait
// for and compare them.
//
// A package using it removes what was built when its tests end:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		daemontest.Cleanup()
//		os.Exit(code)
//	}
//
// Like testenv, nothing here is a fake, and a helper that cannot do its job
// (the build fails, hemostatd exits or never becomes healthy, an envelope
// does not arrive) fails the test with what it saw.
package daemontest
